#include "moe/computed_tensors.hpp"

#include <cmath>

#include "math/counter_random.hpp"
#include "wasmerge/convert.hpp"
#include "wasmerge/error.hpp"

namespace wasmerge {
namespace {

// Elements computed one by one as f32: value(i) for the flat index i.
class GeneratedSource : public TensorSource {
 public:
  GeneratedSource(std::string file, std::string tensor) : file_(std::move(file)), tensor_(std::move(tensor)) {}
  DType dtype() const override { return DType::F32; }
  const std::string& file() const override { return file_; }
  const std::string& tensor() const override { return tensor_; }
  void read(uint64_t first, size_t count, uint8_t* dst) const override {
    float* out = reinterpret_cast<float*>(dst);
    for (size_t i = 0; i < count; ++i) out[i] = value(first + i);
  }

 protected:
  virtual float value(uint64_t i) const = 0;

 private:
  std::string file_, tensor_;
};

class RandomRouter : public ComputedTensor {
 public:
  RandomRouter(std::string name, uint64_t seed, RandomKind kind, uint64_t hidden)
      : name_(std::move(name)),
        stream_(named_stream(seed, name_)),
        kind_(kind),
        bound_(1.0 / std::sqrt(double(hidden))) {}
  std::string describe() const override {
    return kind_ == RandomKind::Normal ? "random router, N(0, 1)" : "random router, U(-1/sqrt(hidden), 1/sqrt(hidden))";
  }
  std::unique_ptr<TensorSource> open(uint64_t) const override {
    class Source : public GeneratedSource {
     public:
      explicit Source(const RandomRouter& r) : GeneratedSource("router", r.name_), r_(r) {}
      float value(uint64_t i) const override {
        if (r_.kind_ == RandomKind::Normal) return static_cast<float>(counter_normal(r_.stream_, i));
        return static_cast<float>((2.0 * counter_uniform(r_.stream_, i) - 1.0) * r_.bound_);
      }
      const RandomRouter& r_;
    };
    return std::make_unique<Source>(*this);
  }

 private:
  std::string name_;
  uint64_t stream_;
  RandomKind kind_;
  double bound_;
};

class TableRouter : public ComputedTensor {
 public:
  TableRouter(std::shared_ptr<const GateTable> table, std::string name, int layer, int first_slot)
      : table_(std::move(table)), name_(std::move(name)), layer_(layer), first_slot_(first_slot) {}
  std::string describe() const override { return "router from the prompts"; }
  std::unique_ptr<TensorSource> open(uint64_t) const override {
    if (!table_->ready) fail("router", name_, "internal error: the gate vectors were not computed");
    class Source : public GeneratedSource {
     public:
      explicit Source(const TableRouter& r) : GeneratedSource("router", r.name_), r_(r) {}
      float value(uint64_t i) const override {
        const uint64_t hidden = static_cast<uint64_t>(r_.table_->hidden);
        return r_.table_->row(r_.layer_, r_.first_slot_ + static_cast<int>(i / hidden))[i % hidden];
      }
      const TableRouter& r_;
    };
    return std::make_unique<Source>(*this);
  }

 private:
  std::shared_ptr<const GateTable> table_;
  std::string name_;
  int layer_, first_slot_;
};

class NoisyTensor : public ComputedTensor {
 public:
  NoisyTensor(const ModelTensor& t, const std::string& name, uint64_t seed, double scale)
      : t_(t), stream_(named_stream(seed, name)), scale_(scale) {}
  std::string describe() const override { return t_.info.name + " + N(0, 1)·" + std::to_string(scale_); }
  std::unique_ptr<TensorSource> open(uint64_t scratch_bytes) const override {
    class Source : public TensorSource {
     public:
      // The tensor through its own source: an adapted model's is computed (SPEC §8).
      Source(const NoisyTensor& n, uint64_t scratch_bytes) : n_(n), inner_(make_source(n.t_, nullptr, scratch_bytes)) {}
      DType dtype() const override { return DType::F32; }
      const std::string& file() const override { return n_.t_.source->name(); }
      const std::string& tensor() const override { return n_.t_.info.name; }
      void read(uint64_t first, size_t count, uint8_t* dst) const override {
        bytes_.resize(count * dtype_size(inner_->dtype()));
        inner_->read(first, count, bytes_.data());
        float* out = reinterpret_cast<float*>(dst);
        to_f32(inner_->dtype(), bytes_.data(), out, count);
        for (size_t i = 0; i < count; ++i)
          out[i] += static_cast<float>(counter_normal(n_.stream_, first + i) * n_.scale_);
      }

     private:
      const NoisyTensor& n_;
      std::unique_ptr<TensorSource> inner_;
      mutable std::vector<uint8_t> bytes_;  // the pipeline reads from one thread
    };
    return std::make_unique<Source>(*this, scratch_bytes);
  }

 private:
  const ModelTensor& t_;
  uint64_t stream_;
  double scale_;
};

class ZeroTensor : public ComputedTensor {
 public:
  explicit ZeroTensor(std::string name) : name_(std::move(name)) {}
  std::string describe() const override { return "zeros"; }
  std::unique_ptr<TensorSource> open(uint64_t) const override {
    class Source : public GeneratedSource {
     public:
      explicit Source(const std::string& name) : GeneratedSource("zeros", name) {}
      float value(uint64_t) const override { return 0.0f; }
    };
    return std::make_unique<Source>(name_);
  }

 private:
  std::string name_;
};

}  // namespace

std::shared_ptr<const ComputedTensor> random_router(const std::string& name, uint64_t seed, RandomKind kind,
                                                    uint64_t hidden) {
  return std::make_shared<RandomRouter>(name, seed, kind, hidden);
}
std::shared_ptr<const ComputedTensor> table_router(std::shared_ptr<const GateTable> table, const std::string& name,
                                                   int layer, int first_slot) {
  return std::make_shared<TableRouter>(std::move(table), name, layer, first_slot);
}
std::shared_ptr<const ComputedTensor> noisy_tensor(const ModelTensor& t, const std::string& name, uint64_t seed,
                                                   double scale) {
  return std::make_shared<NoisyTensor>(t, name, seed, scale);
}
std::shared_ptr<const ComputedTensor> zero_tensor(const std::string& name) {
  return std::make_shared<ZeroTensor>(name);
}

}  // namespace wasmerge
