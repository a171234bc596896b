#pragma once
// Executes one output tensor of the plan: reads its inputs block by block, merges each
// block across the thread pool, converts to the output dtype and streams it to the sink.
#include <functional>
#include <vector>

#include "wasmerge/plan.hpp"
#include "wasmerge/thread_pool.hpp"

namespace wasmerge {

class TensorExecutor {
 public:
  // Elements per pool task: small enough to share out, large enough to amortize.
  static constexpr size_t kChunkElements = 16384;

  TensorExecutor(ThreadPool& pool, uint64_t memory_budget_bytes);
  // on_block(bytes) reports the input bytes of each block once it is written.
  void run(const OutputTensor& out, ByteSink& sink, const std::function<void(uint64_t)>& on_block);

 private:
  size_t block_elements(size_t bytes_per_element) const;
  void copy_base(const OutputTensor& out, ByteSink& sink, const std::function<void(uint64_t)>& on_block);
  void merge_chunk(const OutputTensor& out, size_t first, size_t count);

  ThreadPool& pool_;
  uint64_t budget_;
  std::vector<std::vector<uint8_t>> input_blocks_;  // [0] base (if any), then the models
  std::vector<uint8_t> output_block_;
};

}  // namespace wasmerge
