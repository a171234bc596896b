#pragma once
// Test-side helpers written independently of the code under test: in-memory files,
// a safetensors writer by string concatenation, dtype decoders from the IEEE formulas.
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "wasmerge/byte_io.hpp"
#include "wasmerge/error.hpp"

namespace test {

using Bytes = std::vector<uint8_t>;

class MemoryInputs : public wasmerge::InputFiles {
 public:
  std::map<std::string, std::shared_ptr<Bytes>> files;
  void add(const std::string& path, Bytes bytes) { files[path] = std::make_shared<Bytes>(std::move(bytes)); }
  void add_text(const std::string& path, const std::string& text) { add(path, Bytes(text.begin(), text.end())); }
  std::optional<uint64_t> file_size(const std::string& path) override {
    auto it = files.find(path);
    if (it == files.end()) return std::nullopt;
    return it->second->size();
  }
  std::unique_ptr<wasmerge::ByteSource> open(const std::string& path) override;
};

class MemoryOutputs : public wasmerge::OutputFiles {
 public:
  std::map<std::string, Bytes> pending, committed;
  bool discarded = false;
  std::unique_ptr<wasmerge::ByteSink> create(const std::string& name) override;
  void commit() override {
    for (auto& [name, bytes] : pending) committed[name] = std::move(bytes);
    pending.clear();
  }
  void discard() override {
    pending.clear();
    discarded = true;
  }
  std::string text(const std::string& name) const {
    const Bytes& b = committed.at(name);
    return std::string(b.begin(), b.end());
  }
};

// A tensor's name and dimensions, for tests that build model families.
struct Shape {
  std::string name;
  std::vector<uint64_t> dims;
  size_t n() const {
    size_t k = 1;
    for (auto d : dims) k *= d;
    return k;
  }
};

struct TestTensor {
  std::string name;
  std::string dtype;  // "F32", "F16", "BF16", "F64", "I64", ...
  std::vector<uint64_t> shape;
  Bytes data;
};

// A model of these shapes in dtype, each tensor's values looked up by its name.
Bytes model_file(const std::vector<Shape>& shapes, const std::map<std::string, std::vector<double>>& values,
                 const std::string& dtype);
// A safetensors file, header written by hand: {"name":{"dtype":..,"shape":[..],"data_offsets":[b,e]},...}
Bytes safetensors_file(const std::vector<TestTensor>& tensors, const std::string& metadata_json = "");
// A file with an arbitrary header text and buffer, for malformed cases.
Bytes raw_safetensors(const std::string& header_json, const Bytes& buffer);

// Encoders for values known to be representable, and exact decoders.
Bytes encode(const std::string& dtype, const std::vector<double>& values);
std::vector<double> decode(const std::string& dtype, const uint8_t* data, size_t n);
double f16_bits_value(uint16_t h);   // from the IEEE binary16 definition
double bf16_bits_value(uint16_t h);  // upper half of a binary32

// Random values exactly representable in dtype, spread over a few binades and both signs.
std::vector<double> random_values(const std::string& dtype, size_t n, uint32_t seed, double scale = 1.0);

// A base of standard normals and `models` fine-tunes of it: base + noise(i)·N(0, 1).
struct TaskVectorSet {
  std::vector<double> base;
  std::vector<std::vector<double>> models;
};
TaskVectorSet normal_task_vectors(size_t n, size_t models, uint32_t seed, const std::function<double(size_t)>& noise);

// Parsed safetensors output, decoded with a test-side JSON scan of the header.
struct DecodedTensor {
  std::string dtype;
  std::vector<uint64_t> shape;
  std::vector<double> values;
};
std::map<std::string, DecodedTensor> decode_file(const Bytes& file);

// The allowed gap between a result rounded to `dtype` and its f64 reference:
// one unit in the last place of the output plus f32 rounding of the inputs' scale.
double tolerance(const std::string& dtype, double reference, double input_scale);

}  // namespace test
