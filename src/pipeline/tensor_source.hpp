#pragma once
// Where the elements of one input tensor come from: today a byte range of a file; later
// a computed tensor (a LoRA-adapted weight, a generated router). The pipeline reads
// elements in the source's dtype and converts each chunk to f32 itself.
#include <cstdint>
#include <memory>
#include <string>

#include "wasmerge/dtype.hpp"
#include "wasmerge/model.hpp"
#include "wasmerge/plan.hpp"
#include "wasmerge/row_map.hpp"

namespace wasmerge {

class TensorSource {
 public:
  virtual ~TensorSource() = default;
  virtual DType dtype() const = 0;
  virtual const std::string& file() const = 0;    // for messages
  virtual const std::string& tensor() const = 0;  // for messages
  // Elements [first, first + count), dtype() each, into dst.
  virtual void read(uint64_t first, size_t count, uint8_t* dst) const = 0;
};

// An input whose elements are computed rather than read (an MoE router, an expert with
// noise added, zero biases): the plan holds the recipe, each pipeline opens its source.
class ComputedTensor {
 public:
  virtual ~ComputedTensor() = default;
  // What the dry run says of it: "random router", "model.layers.0.mlp.up_proj.weight + noise".
  virtual std::string describe() const = 0;
  // Its elements as f32 (dtype F32), read in order; scratch_bytes: memory it may keep.
  virtual std::unique_ptr<TensorSource> open(uint64_t scratch_bytes) const = 0;
};

// A tensor of a safetensors file (a grown vocabulary's leading rows are its first elements).
class FileTensorSource : public TensorSource {
 public:
  explicit FileTensorSource(const ModelTensor& t) : t_(t) {}
  DType dtype() const override { return t_.info.dtype; }
  const std::string& file() const override { return t_.source->name(); }
  const std::string& tensor() const override { return t_.info.name; }
  void read(uint64_t first, size_t count, uint8_t* dst) const override {
    const size_t size = dtype_size(t_.info.dtype);
    t_.source->read(t_.absolute_offset() + first * size, count * size, dst);
  }

 private:
  const ModelTensor& t_;
};

// The source of one input of an output tensor: the file's tensor, or, with a row map (a
// vocabulary change), its rows gathered in the output's order and the fill rows computed
// (src/vocabulary/remapped_source.cpp), which may hold scratch_bytes (at least one row)
// of its own for the pass its padding rows need.
std::unique_ptr<TensorSource> make_source(const ModelTensor& t, const RowMap* rows, uint64_t scratch_bytes);
// The source of an input of the plan: computed, or make_source's.
std::unique_ptr<TensorSource> make_source(const TensorInput& in, uint64_t scratch_bytes);

}  // namespace wasmerge
