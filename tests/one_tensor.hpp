#pragma once
// One tensor "w" per model (a base and fine-tunes) as the targeted method tests use it:
// the files, the config, the merge at a thread count and budget, and the check that every
// run gives the same bytes and the f64 reference's values.
#include <string>
#include <vector>

#include "reference.hpp"
#include "support.hpp"

namespace test {

struct OneTensor {
  std::string name = "w";
  std::string dtype = "F32";
  std::vector<uint64_t> shape;
  std::vector<double> base;
  std::vector<std::vector<double>> models;
};

// A [rows, columns] base on a grid and fine-tunes moving each entry by [-spread, spread]
// steps of 1/64 (BF16; |values| below 256 steps stay exact).
OneTensor grid_tensor(uint64_t rows, uint64_t columns, size_t models, int spread, uint32_t seed);

MemoryInputs files_of(const OneTensor& t);  // base.safetensors, m0.safetensors, ...

// config: the method, then `models` entries' parameters and any more top-level keys;
// base: whether it names base.safetensors as base_model.
std::string config_of(const std::string& method, const std::vector<std::string>& parameters,
                      const std::string& extra = "", bool base = true);

Bytes merge(const std::string& config, MemoryInputs& files, unsigned threads = 2, uint64_t mb = 1024);

// The same bytes for 1 and 3 threads, the whole tensor in memory and a 1 MB budget; the
// values as the reference says (ref's base is left empty when base is false).
void check_everywhere(const std::string& config, const OneTensor& t, RefTensorMerge ref, bool base = true);

}  // namespace test
