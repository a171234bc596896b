#include "one_tensor.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "wasmerge/merge.hpp"

namespace test {

OneTensor grid_tensor(uint64_t rows, uint64_t columns, size_t models, int spread, uint32_t seed) {
  OneTensor t;
  t.dtype = "BF16";  // 1 MB holds a chunk of a base and three models
  t.shape = {rows, columns};
  const size_t n = rows * columns;
  std::mt19937 rng(seed);
  t.base.resize(n);
  t.models.assign(models, std::vector<double>(n));
  for (size_t i = 0; i < n; ++i) {
    t.base[i] = (static_cast<int>(rng() % 201) - 100) / 64.0;
    for (auto& m : t.models) m[i] = t.base[i] + (static_cast<int>(rng() % (2 * spread + 1)) - spread) / 64.0;
  }
  return t;
}

MemoryInputs files_of(const OneTensor& t) {
  MemoryInputs files;
  files.add("base.safetensors", safetensors_file({{t.name, t.dtype, t.shape, encode(t.dtype, t.base)}}));
  for (size_t k = 0; k < t.models.size(); ++k)
    files.add("m" + std::to_string(k) + ".safetensors",
              safetensors_file({{t.name, t.dtype, t.shape, encode(t.dtype, t.models[k])}}));
  return files;
}

std::string config_of(const std::string& method, const std::vector<std::string>& parameters, const std::string& extra,
                      bool base) {
  std::string list;
  for (size_t k = 0; k < parameters.size(); ++k)
    list += (k ? "," : "") + std::string(R"({"model":"m)") + std::to_string(k) + R"(.safetensors","parameters":)" +
            parameters[k] + "}";
  return R"({"merge_method":")" + method + "\"" + (base ? R"(,"base_model":"base.safetensors")" : "") +
         R"(,"models":[)" + list + "]" + extra + "}";
}

Bytes merge(const std::string& config, MemoryInputs& files, unsigned threads, uint64_t mb) {
  MemoryOutputs out;
  wasmerge::MergeOptions o;
  o.threads = threads;
  o.memory_mb = mb;
  wasmerge::run_merge(config, o, files, out);
  return out.committed.at("model.safetensors");
}

void check_everywhere(const std::string& config, const OneTensor& t, RefTensorMerge ref, bool base) {
  MemoryInputs files = files_of(t);
  const Bytes whole = merge(config, files, 1, 1024);
  REQUIRE(merge(config, files, 3, 1) == whole);
  REQUIRE(merge(config, files, 1, 1) == whole);
  REQUIRE(merge(config, files, 3, 1024) == whole);
  ref.name = t.name;
  ref.shape = t.shape;
  if (base) ref.base = t.base;
  ref.models.assign(t.models.begin(), t.models.end());
  const auto expected = reference_merge(ref);
  const auto got = decode_file(whole).at(t.name).values;
  for (size_t i = 0; i < got.size(); ++i) {
    double scale = std::fabs(t.base[i]);
    for (const auto& m : t.models) scale += std::fabs(m[i]);
    INFO(ref.method << " [" << i << "] got " << got[i] << " expected " << expected[i]);
    REQUIRE(std::fabs(got[i] - expected[i]) <= tolerance(t.dtype, expected[i], 64 * std::max(8.0, scale)));
  }
}

}  // namespace test
