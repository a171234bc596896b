#include "wasmerge/thread_pool.hpp"

namespace wasmerge {

ThreadPool::ThreadPool(unsigned threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (auto& t : workers_) t.join();
}

// Takes task indices until none are left; every thread, the caller included, runs this.
void ThreadPool::run_tasks() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (next_ < count_) {
    const size_t i = next_++;
    ++running_;
    lock.unlock();
    std::exception_ptr error;
    try {
      task_(i);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    --running_;
    if (error) {
      if (!error_) error_ = error;
      next_ = count_;  // hand out no more work
    }
    if (next_ >= count_ && running_ == 0) busy_ += std::chrono::steady_clock::now() - started_;
  }
  if (running_ == 0) work_done_.notify_all();
}

void ThreadPool::worker_loop() {
  unsigned seen = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    work_ready_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_) return;
    seen = generation_;
    lock.unlock();
    run_tasks();
    lock.lock();
  }
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t)>& task) {
  start(n, task);
  wait();
}

void ThreadPool::start(size_t n, std::function<void(size_t)> task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    task_ = std::move(task);
    next_ = 0;
    count_ = n;
    error_ = nullptr;
    started_ = std::chrono::steady_clock::now();
    ++generation_;
  }
  if (n > 1) work_ready_.notify_all();
}

double ThreadPool::busy_seconds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::chrono::duration<double>(busy_).count();
}

void ThreadPool::abandon() {
  std::unique_lock<std::mutex> lock(mutex_);
  next_ = count_;
  work_done_.wait(lock, [&] { return running_ == 0; });
}

ThreadPool::Batch::Batch(ThreadPool& pool, size_t n, std::function<void(size_t)> task) : pool_(pool) {
  pool_.start(n, std::move(task));
}

ThreadPool::Batch::~Batch() {
  if (!waited_) pool_.abandon();
}

void ThreadPool::Batch::wait() {
  waited_ = true;
  pool_.wait();
}

void ThreadPool::wait() {
  run_tasks();
  std::unique_lock<std::mutex> lock(mutex_);
  work_done_.wait(lock, [&] { return next_ >= count_ && running_ == 0; });
  if (error_) std::rethrow_exception(error_);
}

}  // namespace wasmerge
