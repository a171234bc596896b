#pragma once
// Writes one output tensor of the plan: a byte copy, or its method bound to the tensor
// (method.hpp) running on a block pipeline (block_pipeline.hpp): the method's passes for
// whole-tensor facts, then the write.
#include <cstdint>

#include "pipeline/block_pipeline.hpp"
#include "wasmerge/plan.hpp"

namespace wasmerge {

class Explanation;

class TensorExecutor {
 public:
  TensorExecutor(ThreadPool& pool, uint64_t memory_budget_bytes) : pool_(pool), budget_(memory_budget_bytes) {}
  // on_block(bytes) follows each block: the write reports its input bytes, the passes
  // before it 0 (a chance to cancel). explain: the observer of this tensor's stages.
  void write(const OutputTensor& out, ByteSink& sink, const BlockPipeline::Progress& on_block,
             Explanation* explain = nullptr);

  ThreadPool& pool() { return pool_; }
  PipelineBuffers& buffers() { return buffers_; }
  uint64_t budget() const { return budget_; }

 private:
  void copy(const ModelTensor& t, ByteSink& sink, const BlockPipeline::Progress& on_block);

  ThreadPool& pool_;
  uint64_t budget_;
  PipelineBuffers buffers_;
};

}  // namespace wasmerge
