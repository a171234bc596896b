#pragma once
// The passes of one merged tensor (see tensor_executor.hpp): state per model and the
// per-chunk arithmetic.
#include <cstdint>
#include <vector>

#include "wasmerge/sparsify.hpp"
#include "wasmerge/tensor_executor.hpp"

namespace wasmerge {

class TensorPasses {
 public:
  TensorPasses(TensorExecutor& executor, const OutputTensor& out);
  void run(ByteSink& sink, const TensorExecutor::BlockDone& on_block);

 private:
  struct ModelState {
    RadixSelect select{0, 0};
    MagnitudeCut cut;
    uint32_t dare_threshold = 0;
    float rescale = 1.0f;       // δ' = δ_kept · rescale
    double l1_all = 0, l1_kept = 0;
    uint64_t equal_seen = 0;    // entries equal to the cut in the blocks already done
  };

  // Reads each block (or reuses the one cached block) and calls visit(first, count).
  template <typename Visit>
  void for_each_block(const TensorExecutor::BlockDone& on_block, bool report_bytes, Visit visit);

  void histogram_pass(int level, const TensorExecutor::BlockDone& on_block);
  void l1_pass(const TensorExecutor::BlockDone& on_block);
  void write_pass(ByteSink& sink, const TensorExecutor::BlockDone& on_block);

  // f32 base and task vectors of one chunk into this thread's scratch; returns δ_k rows.
  float* load_chunk(size_t offset_in_block, size_t count, std::vector<float*>& deltas);
  // Zeroes the entries model k drops; `equal_seen` counts threshold ties before them.
  void apply_mask(size_t k, float* delta, size_t count, uint64_t first_index, uint64_t& equal_seen) const;
  // Threshold ties per chunk, prefix-summed: where each chunk's tie count starts.
  void count_ties(size_t block_first, size_t count);

  TensorExecutor& ex_;
  const OutputTensor& out_;
  size_t models_;
  uint64_t total_;
  size_t block_;
  bool cached_ = false;  // the whole tensor fits in one block, read once
  bool block_loaded_ = false;
  std::vector<const ModelTensor*> sources_;  // base (if any), then the models
  std::vector<ModelState> state_;
  std::vector<std::vector<uint64_t>> ties_before_;  // [model][chunk of the block]
};

}  // namespace wasmerge
