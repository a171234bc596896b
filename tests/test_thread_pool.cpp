#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>

#include "wasmerge/thread_pool.hpp"

using wasmerge::ThreadPool;

TEST_CASE("thread pool runs every task exactly once, for any size") {
  for (unsigned threads : {1u, 2u, 3u}) {
    ThreadPool pool(threads);
    CHECK(pool.size() == threads);
    for (size_t n : {0, 1, 2, 7, 1000}) {
      std::vector<std::atomic<int>> hits(n);
      pool.parallel_for(n, [&](size_t i) { hits[i]++; });
      for (auto& h : hits) REQUIRE(h.load() == 1);
    }
  }
}

TEST_CASE("thread pool rethrows a task's exception and stays usable") {
  ThreadPool pool(2);
  CHECK_THROWS_WITH_AS(pool.parallel_for(100, [](size_t i) { if (i == 37) throw std::runtime_error("task 37"); }),
                       "task 37", std::runtime_error);
  std::atomic<int> count{0};
  pool.parallel_for(50, [&](size_t) { count++; });
  CHECK(count.load() == 50);
}
