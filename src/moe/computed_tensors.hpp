#pragma once
// The inputs of an upcycled model that are computed, not read (SPEC §7): routers from the
// counter generator or from the prompts' gate vectors, an expert's weights with noise
// added, and the zero q/k/v biases Qwen2-MoE needs when the base has none.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/tensor_source.hpp"

namespace wasmerge {

// The prompt routers' vectors, [layer][slot][hidden] (slots: the experts, then the shared
// expert), filled by a precompute (gate_vectors.hpp) before any router is written.
struct GateTable {
  int layers = 0, slots = 0, hidden = 0;
  std::vector<float> values;
  bool ready = false;
  float* row(int layer, int slot) { return values.data() + (static_cast<size_t>(layer) * slots + slot) * hidden; }
  const float* row(int layer, int slot) const {
    return values.data() + (static_cast<size_t>(layer) * slots + slot) * hidden;
  }
};

enum class RandomKind { Normal, Uniform };

// A router [rows, hidden] of random numbers: N(0,1), or U(−1/√hidden, 1/√hidden), element i
// from the stream of the router's own output name.
std::shared_ptr<const ComputedTensor> random_router(const std::string& name, uint64_t seed, RandomKind kind,
                                                    uint64_t hidden);
// A router whose rows are slots [first_slot, first_slot + rows) of one layer of the table.
std::shared_ptr<const ComputedTensor> table_router(std::shared_ptr<const GateTable> table, const std::string& name,
                                                   int layer, int first_slot);
// An expert's tensor plus N(0,1)·scale, element i from the stream of its output name.
std::shared_ptr<const ComputedTensor> noisy_tensor(const ModelTensor& t, const std::string& name, uint64_t seed,
                                                   double scale);
std::shared_ptr<const ComputedTensor> zero_tensor(const std::string& name);

}  // namespace wasmerge
