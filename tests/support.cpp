#include "support.hpp"

#include <nlohmann/json.hpp>

namespace test {
namespace {

class MemorySource : public wasmerge::ByteSource {
 public:
  MemorySource(std::string name, std::shared_ptr<Bytes> bytes) : name_(std::move(name)), bytes_(std::move(bytes)) {}
  const std::string& name() const override { return name_; }
  uint64_t size() const override { return bytes_->size(); }
  void read(uint64_t offset, size_t n, uint8_t* dst) override {
    if (offset + n > bytes_->size()) wasmerge::fail(name_, "", "read past the end");
    std::memcpy(dst, bytes_->data() + offset, n);
  }

 private:
  std::string name_;
  std::shared_ptr<Bytes> bytes_;
};

class MemorySink : public wasmerge::ByteSink {
 public:
  explicit MemorySink(Bytes& target) : target_(target) {}
  void write(const uint8_t* data, size_t n) override { target_.insert(target_.end(), data, data + n); }

 private:
  Bytes& target_;
};

size_t dtype_bytes(const std::string& dtype) {
  if (dtype == "F64" || dtype == "I64") return 8;
  if (dtype == "F32" || dtype == "I32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16") return 2;
  return 1;
}

uint16_t load16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

}  // namespace

std::unique_ptr<wasmerge::ByteSource> MemoryInputs::open(const std::string& path) {
  auto it = files.find(path);
  if (it == files.end()) wasmerge::fail(path, "", "no such file");
  return std::make_unique<MemorySource>(path, it->second);
}

std::unique_ptr<wasmerge::ByteSink> MemoryOutputs::create(const std::string& name) {
  pending[name].clear();
  return std::make_unique<MemorySink>(pending[name]);
}

Bytes raw_safetensors(const std::string& header_json, const Bytes& buffer) {
  Bytes out(8);
  uint64_t n = header_json.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(n >> (8 * i));
  out.insert(out.end(), header_json.begin(), header_json.end());
  out.insert(out.end(), buffer.begin(), buffer.end());
  return out;
}

Bytes model_file(const std::vector<Shape>& shapes, const std::map<std::string, std::vector<double>>& values,
                 const std::string& dtype) {
  std::vector<TestTensor> tensors;
  for (const auto& s : shapes) tensors.push_back({s.name, dtype, s.dims, encode(dtype, values.at(s.name))});
  return safetensors_file(tensors);
}

Bytes safetensors_file(const std::vector<TestTensor>& tensors, const std::string& metadata_json) {
  std::string header = "{";
  if (!metadata_json.empty()) header += "\"__metadata__\":" + metadata_json;
  Bytes buffer;
  for (const auto& t : tensors) {
    if (header.size() > 1) header += ",";
    header += "\"" + t.name + "\":{\"dtype\":\"" + t.dtype + "\",\"shape\":[";
    for (size_t i = 0; i < t.shape.size(); ++i) header += (i ? "," : "") + std::to_string(t.shape[i]);
    header += "],\"data_offsets\":[" + std::to_string(buffer.size()) + "," +
              std::to_string(buffer.size() + t.data.size()) + "]}";
    buffer.insert(buffer.end(), t.data.begin(), t.data.end());
  }
  header += "}";
  return raw_safetensors(header, buffer);
}

double f16_bits_value(uint16_t h) {
  const int sign = (h & 0x8000) ? -1 : 1;
  const int e = (h >> 10) & 0x1F;
  const int m = h & 0x3FF;
  if (e == 0) return sign * std::ldexp(m, -24);
  if (e == 31) return m ? NAN : sign * INFINITY;
  return sign * std::ldexp(1024 + m, e - 25);
}

double bf16_bits_value(uint16_t h) {
  const int sign = (h & 0x8000) ? -1 : 1;
  const int e = (h >> 7) & 0xFF;
  const int m = h & 0x7F;
  if (e == 0) return sign * std::ldexp(m, -133);
  if (e == 255) return m ? NAN : sign * INFINITY;
  return sign * std::ldexp(128 + m, e - 134);
}

Bytes encode(const std::string& dtype, const std::vector<double>& values) {
  Bytes out(values.size() * dtype_bytes(dtype));
  for (size_t i = 0; i < values.size(); ++i) {
    uint8_t* p = out.data() + i * dtype_bytes(dtype);
    if (dtype == "F64") {
      std::memcpy(p, &values[i], 8);
    } else if (dtype == "F32") {
      const float f = static_cast<float>(values[i]);
      std::memcpy(p, &f, 4);
    } else {  // F16/BF16: search the pattern whose value it is (test values are representable)
      const float f = static_cast<float>(values[i]);
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      uint16_t h = 0;
      if (dtype == "BF16") {
        h = static_cast<uint16_t>(bits >> 16);
      } else {
        h = std::signbit(values[i]) ? 0x8000 : 0;
        const double a = std::fabs(values[i]);
        if (std::isnan(a)) h |= 0x7E00;
        else if (std::isinf(a)) h |= 0x7C00;
        else if (a != 0) {
          int e;
          std::frexp(a, &e);  // a = f · 2^e, f in [0.5, 1)
          if (e - 1 < -14) h |= static_cast<uint16_t>(std::ldexp(a, 24));  // subnormal: a / 2^-24
          else h |= static_cast<uint16_t>(((e - 1 + 15) << 10) | (static_cast<int>(std::ldexp(a, 11 - e)) - 1024));
        }
      }
      p[0] = static_cast<uint8_t>(h);
      p[1] = static_cast<uint8_t>(h >> 8);
    }
  }
  return out;
}

std::vector<double> decode(const std::string& dtype, const uint8_t* data, size_t n) {
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = data + i * dtype_bytes(dtype);
    if (dtype == "F64") std::memcpy(&out[i], p, 8);
    else if (dtype == "F32") {
      float f;
      std::memcpy(&f, p, 4);
      out[i] = f;
    } else if (dtype == "F16") out[i] = f16_bits_value(load16(p));
    else if (dtype == "BF16") out[i] = bf16_bits_value(load16(p));
    else if (dtype == "I64") {
      int64_t v;
      std::memcpy(&v, p, 8);
      out[i] = static_cast<double>(v);
    }
  }
  return out;
}

std::vector<double> random_values(const std::string& dtype, size_t n, uint32_t seed, double scale) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> out(n);
  for (auto& v : out) {
    double x = u(rng) * scale;
    // Round to the dtype's grid by truncating the mantissa: representable by construction.
    int e;
    const double frac = std::frexp(x, &e);
    const int bits = dtype == "BF16" ? 8 : dtype == "F16" ? 11 : 24;
    x = std::ldexp(std::round(std::ldexp(frac, bits)), e - bits);
    if (dtype == "F16" && std::fabs(x) < std::ldexp(1.0, -14)) x = 0;  // keep clear of subnormals
    v = x;
  }
  return out;
}

std::map<std::string, DecodedTensor> decode_file(const Bytes& file) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | file[i];
  const auto header = nlohmann::json::parse(file.begin() + 8, file.begin() + 8 + static_cast<long>(n));
  std::map<std::string, DecodedTensor> out;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    DecodedTensor t;
    t.dtype = entry["dtype"].get<std::string>();
    t.shape = entry["shape"].get<std::vector<uint64_t>>();
    const uint64_t begin = entry["data_offsets"][0], end = entry["data_offsets"][1];
    t.values = decode(t.dtype, file.data() + 8 + n + begin, (end - begin) / dtype_bytes(t.dtype));
    out[name] = std::move(t);
  }
  return out;
}

double tolerance(const std::string& dtype, double reference, double input_scale) {
  const int mantissa_bits = dtype == "BF16" ? 8 : dtype == "F16" ? 11 : 24;
  const double min_normal = dtype == "F16" ? std::ldexp(1.0, -14) : std::ldexp(1.0, -126);
  const double ulp = std::ldexp(std::max(std::fabs(reference), min_normal), 1 - mantissa_bits);
  return ulp + 8 * std::ldexp(input_scale, -24);
}

TaskVectorSet normal_task_vectors(size_t n, size_t models, uint32_t seed, const std::function<double(size_t)>& noise) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  TaskVectorSet set;
  set.base.resize(n);
  set.models.assign(models, std::vector<double>(n));
  for (size_t i = 0; i < n; ++i) {
    set.base[i] = normal(rng);
    for (auto& m : set.models) m[i] = set.base[i] + noise(i) * normal(rng);
  }
  return set;
}

}  // namespace test
