#include "lora/tensor_pair_delta.hpp"

#include <algorithm>

#include "wasmerge/convert.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/kernels.hpp"

namespace wasmerge {

TensorPairDelta::TensorPairDelta(const ModelTensor& base, const ModelTensor& tuned, size_t rows_per_block,
                                 std::function<void(uint64_t)> on_block)
    : base_(base),
      tuned_(tuned),
      rows_(tuned.info.shape.empty() ? 1 : tuned.info.shape[0]),
      cols_(rows_ ? tuned.info.num_elements() / rows_ : 0),
      rows_per_block_(std::max<size_t>(1, rows_per_block)),
      on_block_(std::move(on_block)) {}

void TensorPairDelta::for_each_block(const Visit& visit) {
  const size_t base_size = dtype_size(base_.info.dtype), tuned_size = dtype_size(tuned_.info.dtype);
  const size_t block_rows = std::min(rows_per_block_, rows_);
  std::vector<uint8_t> raw(block_rows * cols_ * std::max(base_size, tuned_size));
  std::vector<float> base(block_rows * cols_), delta(block_rows * cols_);
  const bool first_pass = passes_ == 0;
  for (size_t first = 0; first < rows_; first += block_rows) {
    const size_t count = std::min(block_rows, rows_ - first), n = count * cols_;
    base_.source->read(base_.absolute_offset() + first * cols_ * base_size, n * base_size, raw.data());
    to_f32(base_.info.dtype, raw.data(), base.data(), n);
    tuned_.source->read(tuned_.absolute_offset() + first * cols_ * tuned_size, n * tuned_size, raw.data());
    to_f32(tuned_.info.dtype, raw.data(), delta.data(), n);
    subtract(delta.data(), base.data(), n);
    if (first_pass) {
      const size_t bad = first_nonfinite(DType::F32, reinterpret_cast<const uint8_t*>(delta.data()), n);
      if (bad < n)
        fail(tuned_.source->name(), tuned_.info.name,
             "element " + std::to_string(first * cols_ + bad) + " differs from " + base_.source->name() +
                 " by a non-finite amount (NaN or inf in a model)");
      zero_ = zero_ && std::all_of(delta.begin(), delta.begin() + n, [](float x) { return x == 0.0f; });
    }
    visit(first, count, delta.data());
    if (on_block_) on_block_(first_pass ? n * (base_size + tuned_size) : 0);
  }
  ++passes_;
}

std::vector<float> TensorPairDelta::load() {
  std::vector<float> all(rows_ * cols_);
  for_each_block([&](size_t first, size_t count, const float* block) {
    std::copy(block, block + count * cols_, all.begin() + first * cols_);
  });
  return all;
}

}  // namespace wasmerge
