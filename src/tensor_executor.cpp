#include "tensor_executor.hpp"

#include <algorithm>

#include "explain.hpp"
#include "wasmerge/error.hpp"

namespace wasmerge {

void TensorExecutor::write(const OutputTensor& out, ByteSink& sink, const BlockPipeline::Progress& on_block,
                           Explanation* explain) {
  if (out.action == TensorAction::Copy) {
    if (out.copy_from->computed) fail("", out.info.name, "internal error: a computed tensor planned as a byte copy");
    return copy(*out.copy_from, sink, on_block);
  }
  const auto merge = out.method->bind(out);
  BlockPipeline pipeline(pool_, buffers_, budget_, out, merge->needs(), on_block, explain);
  merge->prepare(pipeline);
  pipeline.write(
      sink, [&](Chunk& chunk, float* result) { merge->combine(chunk, result); }, merge->write_count());
  if (explain) merge->finish_explanation(*explain);
}

void TensorExecutor::copy(const ModelTensor& t, ByteSink& sink, const BlockPipeline::Progress& on_block) {
  const uint64_t total = t.info.num_bytes();
  const size_t block = static_cast<size_t>(std::min<uint64_t>(budget_ / 2, total));
  uint8_t* buffer = buffers_.output.at_least(block);
  for (uint64_t done = 0; done < total; done += block) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(block, total - done));
    t.source->read(t.absolute_offset() + done, n, buffer);
    sink.write(buffer, n);
    on_block(n);
  }
}

}  // namespace wasmerge
