#pragma once
// Executes one output tensor of the plan in passes over blocks of its elements:
//   - magnitude trims (TIES): two radix-select histogram passes find each model's cut;
//   - L1 rescale: one pass sums ‖δ‖₁ and ‖δ_kept‖₁;
//   - the write pass: mask, rescale, weight, elect, merge, convert, stream to the sink.
// A tensor whose inputs fit the memory budget is read once and kept between passes;
// a larger one is read again, block by block, for each pass. Blocks are split into
// fixed chunks shared across the thread pool; reductions are per-chunk partials
// combined in chunk order, so the bytes never depend on threads or budget.
#include <functional>
#include <vector>

#include "wasmerge/analysis.hpp"
#include "wasmerge/explain.hpp"
#include "wasmerge/plan.hpp"
#include "wasmerge/thread_pool.hpp"

namespace wasmerge {

class TensorExecutor {
 public:
  // Elements per chunk: the unit of parallel work and of every reduction.
  static constexpr size_t kChunkElements = 16384;
  using BlockDone = std::function<void(uint64_t input_bytes)>;

  TensorExecutor(ThreadPool& pool, uint64_t memory_budget_bytes);
  // on_block(bytes) follows each block: the write pass reports its input bytes, the
  // passes before it report 0 (a chance to cancel).
  void run(const OutputTensor& out, ByteSink& sink, const BlockDone& on_block, Explanation* explain = nullptr);
  // The per-tensor report of analysis.hpp; out.sparsify must be Magnitude.
  TensorReport analyze(const OutputTensor& out, const BlockDone& on_block);

  ThreadPool& pool() { return pool_; }
  uint64_t budget() const { return budget_; }
  std::vector<std::vector<uint8_t>>& input_blocks() { return input_blocks_; }
  std::vector<uint8_t>& output_block() { return output_block_; }

 private:
  void copy_base(const OutputTensor& out, ByteSink& sink, const BlockDone& on_block);

  ThreadPool& pool_;
  uint64_t budget_;
  std::vector<std::vector<uint8_t>> input_blocks_;  // [0] base (if any), then the models
  std::vector<uint8_t> output_block_;
};

}  // namespace wasmerge
