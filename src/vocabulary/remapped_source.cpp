// A model's vocabulary tensor in the output's token order, read like a file's tensor:
// element ranges that may start and end anywhere in a row. Runs of the model's own rows
// in order are one read each; a fill row is computed once (the last one is kept, for a
// row split between two blocks); the padding rows' mean needs a pass over the remapped
// rows, made the first time a padding row is read, through a scratch of the size the
// pipeline gives (a share of the budget, at most kMaxScratch, at least one row) plus one
// row in f64 and f32: memory that does not grow with the tensor.
#include <algorithm>
#include <cstring>

#include "pipeline/tensor_source.hpp"
#include "wasmerge/convert.hpp"
#include "wasmerge/error.hpp"

namespace wasmerge {
namespace {

constexpr uint64_t kMaxScratch = 8 << 20;  // larger reads gain nothing

class RemappedSource : public TensorSource {
 public:
  RemappedSource(const ModelTensor& t, const RowMap& map, uint64_t scratch_bytes)
      : t_(t),
        map_(map),
        columns_(columns_of(t.info)),
        size_(dtype_size(t.info.dtype)),
        scratch_(std::min(scratch_bytes, kMaxScratch)) {}
  DType dtype() const override { return t_.info.dtype; }
  const std::string& file() const override { return t_.source->name(); }
  const std::string& tensor() const override { return t_.info.name; }

  void read(uint64_t first, size_t count, uint8_t* dst) const override {
    const uint64_t end = first + count;
    for (uint64_t e = first; e < end;) {
      const uint64_t row = e / columns_, column = e % columns_;
      uint8_t* out = dst + (e - first) * size_;
      const uint64_t in_row = std::min<uint64_t>(end - e, columns_ - column);
      if (row >= map_.tokens) {
        std::memcpy(out, mean_row().data() + column * size_, in_row * size_);
        e += in_row;
        continue;
      }
      const int64_t own = map_.source[row];
      if (own < 0) {
        std::memcpy(out, fill_row(static_cast<size_t>(-1 - own)).data() + column * size_, in_row * size_);
        e += in_row;
        continue;
      }
      // The run of own rows that follow each other here and in the model's tensor.
      const uint64_t last = (end - 1) / columns_;
      uint64_t r = row + 1;
      while (r <= last && r < map_.tokens && map_.source[r] == own + static_cast<int64_t>(r - row)) ++r;
      const uint64_t run_end = std::min(end, r * columns_);
      const uint64_t from = static_cast<uint64_t>(own) * columns_ + column;
      t_.source->read(t_.absolute_offset() + from * size_, static_cast<size_t>((run_end - e) * size_), out);
      e = run_end;
    }
  }

 private:
  // A row of f64 sums, rounded to f32 and then to this tensor's dtype.
  void round_row(const std::vector<double>& sums, double divisor, std::vector<uint8_t>& row) const {
    std::vector<float> values(columns_);
    for (size_t c = 0; c < columns_; ++c) values[c] = static_cast<float>(sums[c] / divisor);
    row.resize(columns_ * size_);
    from_f32(t_.info.dtype, values.data(), row.data(), columns_);
  }

  const std::vector<uint8_t>& fill_row(size_t k) const {
    if (fill_ready_ && fill_index_ == k) return fill_;
    const RowFill& fill = (*map_.fills)[k];
    std::vector<double> sums(columns_, 0.0);
    std::vector<uint8_t> bytes;
    std::vector<float> values(columns_);
    for (const RowTerm& term : fill.terms) {  // in order: the sum is the same on every build
      const DType type = term.tensor->info.dtype;
      bytes.resize(columns_ * dtype_size(type));
      term.tensor->source->read(term.tensor->absolute_offset() + term.row * columns_ * dtype_size(type), bytes.size(),
                                bytes.data());
      to_f32(type, bytes.data(), values.data(), columns_);
      for (size_t c = 0; c < columns_; ++c) sums[c] += values[c];
    }
    round_row(sums, fill.terms.empty() ? 1.0 : static_cast<double>(fill.terms.size()), fill_);
    fill_index_ = k;
    fill_ready_ = true;
    return fill_;
  }

  // mergekit's padding: the mean of the tensor's token rows, as remapped.
  const std::vector<uint8_t>& mean_row() const {
    if (mean_ready_) return mean_;
    std::vector<double> sums(columns_, 0.0);
    std::vector<float> values(columns_);
    const uint64_t batch = std::max<uint64_t>(1, scratch_ / (columns_ * size_));
    std::vector<uint8_t> bytes(static_cast<size_t>(std::min(batch, map_.tokens) * columns_ * size_));
    for (uint64_t row = 0; row < map_.tokens; row += batch) {
      const uint64_t n = std::min(batch, map_.tokens - row);
      read(row * columns_, static_cast<size_t>(n * columns_), bytes.data());
      for (uint64_t r = 0; r < n; ++r) {
        to_f32(t_.info.dtype, bytes.data() + r * columns_ * size_, values.data(), columns_);
        for (size_t c = 0; c < columns_; ++c) sums[c] += values[c];
      }
    }
    round_row(sums, map_.tokens ? static_cast<double>(map_.tokens) : 1.0, mean_);
    mean_ready_ = true;
    return mean_;
  }

  const ModelTensor& t_;
  const RowMap& map_;
  const uint64_t columns_;
  const size_t size_;
  const uint64_t scratch_;
  // read() is const for the pipeline, which calls it from one thread: these are caches.
  mutable std::vector<uint8_t> fill_, mean_;
  mutable size_t fill_index_ = 0;
  mutable bool fill_ready_ = false, mean_ready_ = false;
};

}  // namespace

std::unique_ptr<TensorSource> make_source(const ModelTensor& t, const RowMap* rows, uint64_t scratch_bytes) {
  if (t.computed) {
    if (rows)
      fail(t.source->name(), t.info.name,
           "is changed by a LoRA adapter, and a vocabulary change of an adapted tensor is not supported yet");
    return t.computed->open(scratch_bytes);
  }
  if (!rows) return std::make_unique<FileTensorSource>(t);
  return std::make_unique<RemappedSource>(t, *rows, scratch_bytes);
}

std::unique_ptr<TensorSource> make_source(const TensorInput& in, uint64_t scratch_bytes) {
  if (in.computed) return in.computed->open(scratch_bytes);
  return make_source(*in.tensor, in.rows.get(), scratch_bytes);
}

}  // namespace wasmerge
