#include "lora_builder.hpp"

#include <cmath>

namespace test {

void LoraAdapter::add(const std::string& name, const std::vector<uint64_t>& shape, uint32_t seed, double scale,
                      double offset, const std::string& dtype) {
  size_t n = 1;
  for (auto d : shape) n *= d;
  std::vector<double> v = random_values(dtype, n, seed, scale);
  if (offset != 0.0)
    for (double& x : v) x = std::fabs(x) + offset;
  Bytes bytes = encode(dtype, v);
  values[name] = decode(dtype, bytes.data(), n);  // what the file holds, offset sums rounded
  tensors.push_back({name, dtype, shape, std::move(bytes)});
}

void LoraAdapter::add_linear(const std::string& module, uint64_t r, uint64_t in, uint64_t out, uint32_t seed,
                             const std::string& dtype) {
  add("base_model.model." + module + ".lora_A.weight", {r, in}, seed, 0.5, 0.0, dtype);
  add("base_model.model." + module + ".lora_B.weight", {out, r}, seed + 7919, 0.5, 0.0, dtype);
}

void LoraAdapter::add_embedding(const std::string& module, uint64_t r, uint64_t vocab, uint64_t dim, uint32_t seed) {
  add("base_model.model." + module + ".lora_embedding_A", {r, vocab}, seed);
  add("base_model.model." + module + ".lora_embedding_B", {dim, r}, seed + 7919);
}

void LoraAdapter::write(MemoryInputs& files, const std::string& folder) const {
  files.add_text(folder + "/adapter_config.json", config);
  files.add(folder + "/adapter_model.safetensors", safetensors_file(tensors));
}

std::vector<double> lora_reference(const std::vector<double>& w, uint64_t rows, uint64_t cols,
                                   const std::vector<double>& a, const std::vector<double>& b, uint64_t r, double s,
                                   bool transposed, std::vector<double>* terms) {
  std::vector<double> out(w.size());
  if (terms) terms->assign(w.size(), 0.0);
  for (uint64_t i = 0; i < rows; ++i)
    for (uint64_t j = 0; j < cols; ++j) {
      double sum = 0, size = 0;
      for (uint64_t k = 0; k < r; ++k) {
        // plain: B [rows, r], A [r, cols]; transposed: A [r, rows], B [cols, r]
        const double term = transposed ? b[j * r + k] * a[k * rows + i] : b[i * r + k] * a[k * cols + j];
        sum += term;
        size += std::fabs(term);
      }
      out[i * cols + j] = w[i * cols + j] + s * sum;
      if (terms) (*terms)[i * cols + j] = std::fabs(w[i * cols + j]) + std::fabs(s) * size;
    }
  return out;
}

std::vector<double> dora_reference(const std::vector<double>& adapted, uint64_t rows, uint64_t cols,
                                   const std::vector<double>& magnitude, bool per_column,
                                   std::vector<double>* factors) {
  std::vector<double> norms(per_column ? cols : rows, 0.0);
  for (uint64_t i = 0; i < rows; ++i)
    for (uint64_t j = 0; j < cols; ++j) norms[per_column ? j : i] += adapted[i * cols + j] * adapted[i * cols + j];
  std::vector<double> out(adapted.size());
  if (factors) factors->assign(adapted.size(), 0.0);
  for (uint64_t i = 0; i < rows; ++i)
    for (uint64_t j = 0; j < cols; ++j) {
      const uint64_t o = per_column ? j : i;
      const double f = magnitude[o] / std::sqrt(norms[o]);
      out[i * cols + j] = f * adapted[i * cols + j];
      if (factors) (*factors)[i * cols + j] = std::fabs(f);
    }
  return out;
}

}  // namespace test
