#include "wasmerge/tensor_executor.hpp"

#include <algorithm>
#include <cmath>

#include "wasmerge/convert.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/kernels.hpp"

namespace wasmerge {
namespace {

constexpr size_t kMaxBlockElements = size_t{1} << 24;

void read_elements(const ModelTensor& t, uint64_t first, size_t count, uint8_t* dst) {
  const size_t size = dtype_size(t.info.dtype);
  t.source->read(t.absolute_offset() + first * size, count * size, dst);
}

// Σ w_k, or 1 when normalizing is off or the sum vanishes (SPEC §2, no consensus).
float weight_divisor(const OutputTensor& out) {
  if (!out.normalize) return 1.0f;
  double sum = 0;
  for (const auto& in : out.inputs) sum += in.weight;
  return std::fabs(sum) < 1e-8 ? 1.0f : static_cast<float>(sum);
}

}  // namespace

TensorExecutor::TensorExecutor(ThreadPool& pool, uint64_t memory_budget_bytes)
    : pool_(pool), budget_(memory_budget_bytes) {}

// The largest whole number of chunks whose raw bytes fit half the budget; the rest of
// the budget is left for scratch, headers and the host.
size_t TensorExecutor::block_elements(size_t bytes_per_element) const {
  const uint64_t fit = budget_ / 2 / bytes_per_element;
  if (fit < kChunkElements)
    fail("", "", "memory budget of " + std::to_string(budget_ >> 20) + " MB is too small for this merge");
  return static_cast<size_t>(std::min<uint64_t>(fit, kMaxBlockElements) / kChunkElements * kChunkElements);
}

void TensorExecutor::run(const OutputTensor& out, ByteSink& sink, const std::function<void(uint64_t)>& on_block) {
  if (out.action == TensorAction::CopyBase) return copy_base(out, sink, on_block);

  std::vector<const ModelTensor*> sources;
  if (out.base) sources.push_back(out.base);
  for (const auto& in : out.inputs) sources.push_back(in.tensor);
  size_t bytes_per_element = dtype_size(out.info.dtype);
  for (const auto* s : sources) bytes_per_element += dtype_size(s->info.dtype);

  const uint64_t total = out.info.num_elements();
  const size_t block = block_elements(bytes_per_element);
  input_blocks_.resize(sources.size());
  for (size_t j = 0; j < sources.size(); ++j)
    input_blocks_[j].resize(std::min<uint64_t>(block, total) * dtype_size(sources[j]->info.dtype));
  output_block_.resize(std::min<uint64_t>(block, total) * dtype_size(out.info.dtype));

  for (uint64_t first = 0; first < total; first += block) {
    const size_t count = static_cast<size_t>(std::min<uint64_t>(block, total - first));
    uint64_t bytes_read = 0;
    for (size_t j = 0; j < sources.size(); ++j) {
      read_elements(*sources[j], first, count, input_blocks_[j].data());
      bytes_read += count * dtype_size(sources[j]->info.dtype);
    }
    const size_t chunks = (count + kChunkElements - 1) / kChunkElements;
    pool_.parallel_for(chunks, [&](size_t c) {
      const size_t chunk_first = c * kChunkElements;
      merge_chunk(out, chunk_first, std::min(kChunkElements, count - chunk_first));
    });
    sink.write(output_block_.data(), count * dtype_size(out.info.dtype));
    on_block(bytes_read);
  }
}

// One chunk of the current block, on any thread: raw inputs -> f32 -> merged -> raw output.
void TensorExecutor::merge_chunk(const OutputTensor& out, size_t first, size_t count) {
  thread_local std::vector<float> scratch;
  scratch.resize(3 * kChunkElements);
  float* base = scratch.data();
  float* x = base + kChunkElements;
  float* mixed = x + kChunkElements;

  size_t j = 0;
  if (out.base) {
    const DType t = out.base->info.dtype;
    to_f32(t, input_blocks_[j++].data() + first * dtype_size(t), base, count);
  }
  for (size_t k = 0; k < out.inputs.size(); ++k, ++j) {
    const DType t = out.inputs[k].tensor->info.dtype;
    to_f32(t, input_blocks_[j].data() + first * dtype_size(t), x, count);
    if (out.base) subtract(x, base, count);  // δ_k = m_k − b
    if (k == 0) scale_into(mixed, x, out.inputs[k].weight, count);
    else add_scaled(mixed, x, out.inputs[k].weight, count);
  }
  const float divisor = weight_divisor(out);
  if (divisor != 1.0f) divide(mixed, divisor, count);
  float* result = mixed;
  if (out.base) {
    add_lambda_times(x, base, mixed, out.lambda, count);
    result = x;
  }
  from_f32(out.info.dtype, result, output_block_.data() + first * dtype_size(out.info.dtype), count);
}

void TensorExecutor::copy_base(const OutputTensor& out, ByteSink& sink, const std::function<void(uint64_t)>& on_block) {
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
