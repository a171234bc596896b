#pragma once
// Test-side PEFT adapters: adapter_config.json written by hand, tensors with random values
// (exact in their dtype) remembered by name, and the f64 references of SPEC §8 computed
// here from those values alone.
#include <map>
#include <string>
#include <vector>

#include "support.hpp"

namespace test {

struct LoraAdapter {
  std::string config = R"({"peft_type":"LORA","r":4,"lora_alpha":8})";
  std::vector<TestTensor> tensors;
  std::map<std::string, std::vector<double>> values;  // by full tensor name

  // base_model.model.<module>.lora_A.weight [r, in] and .lora_B.weight [out, r], random.
  void add_linear(const std::string& module, uint64_t r, uint64_t in, uint64_t out, uint32_t seed,
                  const std::string& dtype = "F32");
  // base_model.model.<module>.lora_embedding_A [r, vocab] and lora_embedding_B [dim, r].
  void add_embedding(const std::string& module, uint64_t r, uint64_t vocab, uint64_t dim, uint32_t seed);
  // Any tensor, random values (scale, offset: magnitudes stay positive with offset > scale).
  void add(const std::string& name, const std::vector<uint64_t>& shape, uint32_t seed, double scale = 0.5,
           double offset = 0.0, const std::string& dtype = "F32");
  const std::vector<double>& at(const std::string& name) const { return values.at(name); }
  void write(MemoryInputs& files, const std::string& folder) const;
};

// The adapted weight in f64, row-major rows × cols as stored:
//   plain:      W [out, in],  W'[i][j] = W[i][j] + s·Σ_k B[i][k]·A[k][j]
//   transposed: W [in, out] (fan_in_fan_out) or [vocab, dim] (embedding),
//               W'[i][j] = W[i][j] + s·Σ_k B[j][k]·A[k][i]
// terms (optional): |W| + |s|·Σ|B·A| per element, the size of what was summed.
std::vector<double> lora_reference(const std::vector<double>& w, uint64_t rows, uint64_t cols,
                                   const std::vector<double>& a, const std::vector<double>& b, uint64_t r, double s,
                                   bool transposed, std::vector<double>* terms = nullptr);
// DoRA: m ⊙ W'/‖W'‖, the norm per row (a Linear) or per column (transposed layouts).
std::vector<double> dora_reference(const std::vector<double>& adapted, uint64_t rows, uint64_t cols,
                                   const std::vector<double>& magnitude, bool per_column,
                                   std::vector<double>* factors = nullptr);

}  // namespace test
