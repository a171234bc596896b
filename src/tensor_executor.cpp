#include "wasmerge/tensor_executor.hpp"

#include <algorithm>

#include "wasmerge/tensor_passes.hpp"

namespace wasmerge {
TensorExecutor::TensorExecutor(ThreadPool& pool, uint64_t memory_budget_bytes)
    : pool_(pool), budget_(memory_budget_bytes) {}

void TensorExecutor::run(const OutputTensor& out, ByteSink& sink, const BlockDone& on_block, Explanation* explain) {
  if (out.action == TensorAction::CopyBase) return copy_base(out, sink, on_block);
  TensorPasses(*this, out, explain).run(sink, on_block);
}

TensorReport TensorExecutor::analyze(const OutputTensor& out, const BlockDone& on_block) {
  return TensorPasses(*this, out).analyze(on_block);
}

void TensorExecutor::copy_base(const OutputTensor& out, ByteSink& sink, const BlockDone& on_block) {
  const ModelTensor& t = *out.base;
  const uint64_t total = t.info.num_bytes();
  const size_t block = static_cast<size_t>(std::min<uint64_t>(budget_ / 2, total));
  output_block_.resize(block);
  for (uint64_t done = 0; done < total; done += block) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(block, total - done));
    t.source->read(t.absolute_offset() + done, n, output_block_.data());
    sink.write(output_block_.data(), n);
    on_block(n);
  }
}

}  // namespace wasmerge
