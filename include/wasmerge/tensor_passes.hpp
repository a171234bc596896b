#pragma once
// The passes of one merged tensor (see tensor_executor.hpp): per-model state, the block
// pipeline (the next block is read while the pool computes this one, the last one is
// written meanwhile) and the per-chunk arithmetic.
#include <cstdint>
#include <functional>
#include <vector>

#include "wasmerge/analysis.hpp"
#include "wasmerge/explain.hpp"
#include "wasmerge/sparsify.hpp"
#include "wasmerge/tensor_executor.hpp"

namespace wasmerge {

class TensorPasses {
 public:
  // explain: when set, the write pass records its steps for the elements it asks for.
  TensorPasses(TensorExecutor& executor, const OutputTensor& out, Explanation* explain = nullptr);
  void run(ByteSink& sink, const TensorExecutor::BlockDone& on_block);
  // The analysis instead of a merge: out.sparsify must be Magnitude (the top-k sets).
  TensorReport analyze(const TensorExecutor::BlockDone& on_block);

 private:
  struct ModelState {
    RadixSelect select{0, 0};
    MagnitudeCut cut;
    uint32_t dare_threshold = 0;
    float rescale = 1.0f;  // δ' = δ_kept · rescale
    double l1_all = 0, l1_kept = 0;
    uint64_t ties_seen = 0;  // entries equal to the cut in the blocks already done
  };

  // One block as a pass sees it: its elements [first, first + count) and where they sit
  // in the input buffers (`slot`, in elements).
  struct Block {
    uint64_t first;
    size_t count;
    size_t slot;
    size_t index;
  };
  // visit(block, read_next) must call read_next() once, while the pool is busy.
  using Visit = std::function<void(const Block&, const std::function<void()>& read_next)>;
  void for_each_block(const TensorExecutor::BlockDone& on_block, bool report_bytes, const Visit& visit);
  Block block_at(size_t index) const;  // its elements and where they sit in the buffers
  uint64_t read_block(size_t index);
  // NaN or inf in an input is an error naming the file, tensor and first index.
  void check_finite(const ModelTensor& t, const uint8_t* data, uint64_t first, size_t count) const;

  void select_cuts(const TensorExecutor::BlockDone& on_block);
  void histogram_pass(int level, const TensorExecutor::BlockDone& on_block);
  void l1_pass(const TensorExecutor::BlockDone& on_block);
  void write_pass(ByteSink& sink, const TensorExecutor::BlockDone& on_block);

  // f32 base and task vectors of one chunk into this thread's scratch; returns the base.
  float* load_chunk(size_t element, size_t count, std::vector<float*>& deltas);
  // Zeroes the entries model k drops; `ties_seen` counts threshold ties before them.
  // DARE decisions of a cached tensor are recorded by the first pass, replayed by the next.
  void apply_mask(size_t k, float* delta, size_t count, uint64_t first_index, uint64_t ties_seen);
  bool any_selection() const;  // some model's magnitude cut needs selecting
  bool any_partial_tie() const;
  void run_chunks(const Block& b, const std::function<void(size_t)>& task, const std::function<void()>& meanwhile);
  TensorReport chunk_report(const Block& b, size_t chunk);
  // The pool task counting the threshold ties of each chunk of the block.
  std::function<void(size_t)> tie_count_task(const Block& b);
  // After the count: each chunk's number of ties before it, across blocks.
  void finish_tie_count();

  TensorExecutor& ex_;
  const OutputTensor& out_;
  Explanation* explain_;
  size_t models_;
  uint64_t total_;
  size_t block_;         // elements per block
  bool cached_ = false;  // the whole tensor stays in the input buffers between passes
  bool loaded_ = false;  // ... and is there
  bool finite_checked_ = false;  // the first pass looked at every input element
  std::vector<const ModelTensor*> sources_;  // base (if any), then the models
  std::vector<ModelState> state_;
  std::vector<std::vector<uint64_t>> ties_before_;  // [model][chunk of the block]
  std::vector<std::vector<uint8_t>> dare_kept_;     // [model][element]: 1 kept, when cached
  bool dare_recorded_ = false;
};

}  // namespace wasmerge
