#pragma once
// A fixed pool of threads running the chunks of one parallel_for at a time. Chunks are
// independent and each writes its own output range, so the thread count never changes
// the result.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <algorithm>
#include <thread>
#include <vector>

namespace wasmerge {

class ThreadPool {
 public:
  explicit ThreadPool(unsigned threads);  // 0: every core; the caller's thread counts as one
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  unsigned size() const { return static_cast<unsigned>(workers_.size()) + 1; }
  // Seconds from each batch's start until its last task finished, summed: the time spent
  // computing, whatever the caller did meanwhile (the page shows it beside its I/O times).
  double busy_seconds() const;
  // Runs task(i) for i in [0, n) across the pool and the calling thread; rethrows the
  // first exception a task threw.
  void parallel_for(size_t n, const std::function<void(size_t)>& task);

  // The same in two halves, so the caller can do other work (read the next block) while
  // the workers run: the constructor hands out the tasks, wait() joins in and waits for
  // all. Should the caller's other work throw, the destructor stops handing out tasks and
  // waits for those running, so none outlives what it refers to.
  class Batch {
   public:
    Batch(ThreadPool& pool, size_t n, std::function<void(size_t)> task);
    ~Batch();
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
    void wait();

   private:
    ThreadPool& pool_;
    bool waited_ = false;
  };

 private:
  void start(size_t n, std::function<void(size_t)> task);
  void wait();
  void abandon();  // no more tasks; waits for the running ones, ignoring their errors
  void worker_loop();
  void run_tasks();

  std::vector<std::thread> workers_;
  mutable std::mutex mutex_;
  std::condition_variable work_ready_, work_done_;
  std::function<void(size_t)> task_;
  size_t next_ = 0, count_ = 0, running_ = 0;
  unsigned generation_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::duration busy_{};
};

}  // namespace wasmerge
