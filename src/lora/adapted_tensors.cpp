// The computed tensors of an adapted model. Every sum is in a fixed order (B·A over r in
// order, DoRA's norms over a row's columns or a column's rows in order, in f64), so the
// bytes do not depend on the blocks the pipeline asks for, the threads or the build.
#include "lora/adapted_tensors.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "wasmerge/convert.hpp"
#include "wasmerge/error.hpp"

namespace wasmerge {
namespace {

// Elements [first, first + count) of a file tensor, as f32.
void read_f32(const ModelTensor& t, uint64_t first, size_t count, float* out, std::vector<uint8_t>& bytes) {
  const size_t size = dtype_size(t.info.dtype);
  bytes.resize(count * size);
  t.source->read(t.absolute_offset() + first * size, bytes.size(), bytes.data());
  to_f32(t.info.dtype, bytes.data(), out, count);
}

std::vector<float> whole_f32(const ModelTensor& t) {
  std::vector<float> values(static_cast<size_t>(t.info.num_elements()));
  std::vector<uint8_t> bytes;
  read_f32(t, 0, values.size(), values.data(), bytes);
  return values;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string mib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

class LoraWeight : public ComputedTensor {
 public:
  explicit LoraWeight(LoraFactors f) : f_(std::move(f)) {}
  std::string describe() const override {
    std::string d = f_.weight.info.name + " + " + number(f_.scale) + "·(B·A)" + (f_.transposed ? "ᵀ" : "") + ", rank " +
                    std::to_string(f_.a.info.shape[0]) + ", from " + f_.adapter;
    if (f_.magnitude) d += ", DoRA: magnitude ⊙ W'/‖W'‖ per " + std::string(f_.transposed ? "column" : "row");
    return d;
  }
  std::unique_ptr<TensorSource> open(uint64_t scratch_bytes) const override;

  const LoraFactors& factors() const { return f_; }

 private:
  LoraFactors f_;
};

class LoraWeightSource : public TensorSource {
 public:
  LoraWeightSource(const LoraFactors& f, uint64_t scratch_bytes)
      : f_(f),
        rows_(f.weight.info.shape[0]),
        cols_(f.weight.info.shape[1]),
        rank_(f.a.info.shape[0]),
        scale_(static_cast<float>(f.scale)),
        scratch_(scratch_bytes),
        file_(f.a.source->name()) {
    const uint64_t held = (rank_ * cols_ + (f.magnitude ? f.magnitude->info.num_elements() : 0)) * sizeof(float) +
                          (f.magnitude && f.transposed ? cols_ * sizeof(double) : 0);
    if (held > scratch_bytes)
      fail(file_, f.weight.info.name,
           "its LoRA factors hold " + mib(held) + " in f32, more than the " + mib(scratch_bytes) +
               " the memory budget gives an adapted tensor (memory_mb / 16): raise memory_mb");
    // Q [r, cols]: A as it is, or Bᵀ.
    if (!f.transposed) {
      q_ = whole_f32(f.a);
    } else {
      const std::vector<float> b = whole_f32(f.b);  // [cols, r]
      q_.resize(rank_ * cols_);
      for (uint64_t j = 0; j < cols_; ++j)
        for (uint64_t k = 0; k < rank_; ++k) q_[k * cols_ + j] = b[j * rank_ + k];
    }
    if (f.magnitude) magnitude_ = whole_f32(*f.magnitude);
  }
  DType dtype() const override { return DType::F32; }
  const std::string& file() const override { return file_; }
  const std::string& tensor() const override { return f_.weight.info.name; }

  void read(uint64_t first, size_t count, uint8_t* dst) const override {
    float* out = reinterpret_cast<float*>(dst);
    const uint64_t end = first + count;
    if (!f_.magnitude) return adapt(first, end, out);
    if (f_.transposed) {  // DoRA per stored column: the norms need a pass over every row first
      if (column_factors_.empty()) compute_column_factors();
      adapt(first, end, out);
      for (uint64_t e = first; e < end; ++e) out[e - first] *= column_factors_[e % cols_];
      return;
    }
    // DoRA per stored row: the rows the range touches, whole.
    const uint64_t i0 = first / cols_, i1 = (end + cols_ - 1) / cols_;
    rows_buffer_.resize(static_cast<size_t>((i1 - i0) * cols_));
    adapt(i0 * cols_, i1 * cols_, rows_buffer_.data());
    for (uint64_t i = i0; i < i1; ++i) {
      const float* row = rows_buffer_.data() + (i - i0) * cols_;
      double squares = 0;
      for (uint64_t j = 0; j < cols_; ++j) squares += static_cast<double>(row[j]) * row[j];
      const float factor = static_cast<float>(magnitude_[i] / std::sqrt(squares));
      const uint64_t a = std::max(first, i * cols_), b = std::min(end, (i + 1) * cols_);
      for (uint64_t e = a; e < b; ++e) out[e - first] = factor * row[e - i * cols_];
    }
  }

 private:
  // W' = W + s·P·Q for elements [first, end) of the row-major tensor.
  void adapt(uint64_t first, uint64_t end, float* out) const {
    if (first >= end) return;
    read_f32(f_.weight, first, static_cast<size_t>(end - first), out, bytes_);
    const uint64_t i0 = first / cols_, i1 = (end - 1) / cols_ + 1;
    load_rows(i0, i1);
    acc_.resize(static_cast<size_t>(cols_));
    float* acc = acc_.data();
    for (uint64_t i = i0; i < i1; ++i) {
      const uint64_t c0 = i == i0 ? first - i * cols_ : 0, c1 = std::min(cols_, end - i * cols_);
      std::fill(acc + c0, acc + c1, 0.0f);
      const float* p = p_.data() + (i - i0) * rank_;
      for (uint64_t k = 0; k < rank_; ++k) {  // over r in order: each element's sum is the same in any block
        const float pk = p[k];
        const float* q = q_.data() + k * cols_;
        for (uint64_t j = c0; j < c1; ++j) acc[j] += pk * q[j];
      }
      float* o = out + (i * cols_ + c0 - first);
      for (uint64_t j = c0; j < c1; ++j) o[j - c0] += scale_ * acc[j];
    }
  }

  // P's rows [i0, i1): B's rows, or Aᵀ's (a slice of each of A's r rows).
  void load_rows(uint64_t i0, uint64_t i1) const {
    const size_t n = static_cast<size_t>(i1 - i0);
    p_.resize(n * rank_);
    if (!f_.transposed) return read_f32(f_.b, i0 * rank_, n * rank_, p_.data(), bytes_);
    column_.resize(n);
    for (uint64_t k = 0; k < rank_; ++k) {
      read_f32(f_.a, k * rows_ + i0, n, column_.data(), bytes_);
      for (size_t i = 0; i < n; ++i) p_[i * rank_ + k] = column_[i];
    }
  }

  void compute_column_factors() const {
    std::vector<double> squares(static_cast<size_t>(cols_), 0.0);
    const uint64_t batch = std::max<uint64_t>(1, scratch_ / 2 / (cols_ * sizeof(float)));
    std::vector<float> rows(static_cast<size_t>(std::min(batch, rows_) * cols_));
    for (uint64_t i = 0; i < rows_; i += batch) {
      const uint64_t n = std::min(batch, rows_ - i);
      adapt(i * cols_, (i + n) * cols_, rows.data());
      for (uint64_t r = 0; r < n; ++r)
        for (uint64_t j = 0; j < cols_; ++j) {
          const double v = rows[r * cols_ + j];
          squares[j] += v * v;
        }
    }
    column_factors_.resize(static_cast<size_t>(cols_));
    for (uint64_t j = 0; j < cols_; ++j) column_factors_[j] = static_cast<float>(magnitude_[j] / std::sqrt(squares[j]));
  }

  const LoraFactors& f_;
  const uint64_t rows_, cols_, rank_;
  const float scale_;
  const uint64_t scratch_;
  const std::string file_;
  std::vector<float> q_, magnitude_;
  // read() is const for the pipeline, which calls it from one thread: these are working buffers.
  mutable std::vector<float> p_, acc_, column_, rows_buffer_, column_factors_;
  mutable std::vector<uint8_t> bytes_;
};

std::unique_ptr<TensorSource> LoraWeight::open(uint64_t scratch_bytes) const {
  return std::make_unique<LoraWeightSource>(f_, scratch_bytes);
}

// Element-wise sources over file tensors of the same element count.
class ElementwiseSource : public TensorSource {
 public:
  ElementwiseSource(const ModelTensor& main, std::string file) : main_(main), file_(std::move(file)) {}
  DType dtype() const override { return DType::F32; }
  const std::string& file() const override { return file_; }
  const std::string& tensor() const override { return main_.info.name; }

 protected:
  const ModelTensor& main_;
  std::string file_;
  mutable std::vector<uint8_t> bytes_;
};

class ShiftedBias : public ComputedTensor {
 public:
  ShiftedBias(const ModelTensor& bias, const ModelTensor& lora_bias, double scale, std::string adapter)
      : bias_(bias), lora_bias_(lora_bias), scale_(scale), adapter_(std::move(adapter)) {}
  std::string describe() const override {
    return bias_.info.name + " + " + number(scale_) + "·lora_B.bias, from " + adapter_;
  }
  std::unique_ptr<TensorSource> open(uint64_t) const override {
    class Source : public ElementwiseSource {
     public:
      explicit Source(const ShiftedBias& s)
          : ElementwiseSource(s.bias_, s.lora_bias_.source->name()), s_(s), scale_(static_cast<float>(s.scale_)) {}
      void read(uint64_t first, size_t count, uint8_t* dst) const override {
        float* out = reinterpret_cast<float*>(dst);
        read_f32(s_.bias_, first, count, out, bytes_);
        shift_.resize(count);
        read_f32(s_.lora_bias_, first, count, shift_.data(), bytes_);
        for (size_t i = 0; i < count; ++i) out[i] += scale_ * shift_[i];
      }

     private:
      const ShiftedBias& s_;
      const float scale_;
      mutable std::vector<float> shift_;
    };
    return std::make_unique<Source>(*this);
  }

 private:
  ModelTensor bias_, lora_bias_;
  double scale_;
  std::string adapter_;
};

class SavedModule : public ComputedTensor {
 public:
  SavedModule(const ModelTensor& replacement, std::string adapter)
      : replacement_(replacement), adapter_(std::move(adapter)) {}
  std::string describe() const override { return replacement_.info.name + " of " + adapter_ + " (modules_to_save)"; }
  std::unique_ptr<TensorSource> open(uint64_t) const override {
    class Source : public ElementwiseSource {
     public:
      explicit Source(const ModelTensor& t) : ElementwiseSource(t, t.source->name()) {}
      void read(uint64_t first, size_t count, uint8_t* dst) const override {
        read_f32(main_, first, count, reinterpret_cast<float*>(dst), bytes_);
      }
    };
    return std::make_unique<Source>(replacement_);
  }

 private:
  ModelTensor replacement_;
  std::string adapter_;
};

}  // namespace

std::shared_ptr<const ComputedTensor> lora_weight(LoraFactors factors) {
  return std::make_shared<LoraWeight>(std::move(factors));
}

std::shared_ptr<const ComputedTensor> shifted_bias(const ModelTensor& bias, const ModelTensor& lora_bias, double scale,
                                                   const std::string& adapter) {
  return std::make_shared<ShiftedBias>(bias, lora_bias, scale, adapter);
}

std::shared_ptr<const ComputedTensor> saved_module(const ModelTensor& replacement, const std::string& adapter) {
  return std::make_shared<SavedModule>(replacement, adapter);
}

}  // namespace wasmerge
