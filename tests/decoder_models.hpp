#pragma once
// Small random decoders for the tests (dense Llama/Mistral/Qwen2/Qwen3 and their MoE
// variants): the f64 values the reference reads, the safetensors bytes the engine reads.
#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "reference_decoder.hpp"
#include "support.hpp"
#include "wasmerge/model.hpp"

namespace test {

struct TestModel {
  std::string config;
  std::string dtype;
  test::RefTensors tensors;
  std::vector<std::string> order;  // tensor names in file order
};

// A dense decoder with random weights of the shapes config.json gives: projections scaled
// by 1/√in so activations stay of order 1, norms around 1, biases small.
TestModel random_decoder(const std::string& config, const std::string& dtype, uint32_t seed);

// The dense model of `dense_config` made a mixture of experts of `type` (mixtral,
// qwen2_moe, qwen3_moe) with `experts` experts, top 2, every expert (and Qwen2-MoE's shared
// expert, its gate) random.
TestModel random_moe(const std::string& dense_config, const std::string& type, int experts, const std::string& dtype,
                     uint32_t seed);

// The model's one safetensors file at `file` (without the tensor `skip`).
MemoryInputs files_of(const TestModel& m, const std::string& skip = "", const std::string& file = "model.safetensors");

std::vector<std::vector<int32_t>> random_sequences(const std::vector<size_t>& lengths, int vocab, uint32_t seed);

int vocab_of(const std::string& config);

// Max |a - b| within rel·max(1, max|b|).
template <typename A>
void require_close(const A& got, const std::vector<double>& expected, double rel, const std::string& what) {
  REQUIRE(got.size() == expected.size());
  double scale = 1, worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    scale = std::max(scale, std::fabs(expected[i]));
    const double diff = std::fabs(double(got[i]) - expected[i]);
    if (!(diff <= worst)) worst = diff, at = i;
  }
  INFO(what << ": worst |diff| " << worst << " at " << at << " (got " << got[at] << ", expected " << expected[at]
            << "), scale " << scale);
  REQUIRE(worst <= rel * scale);
}

extern const char* const kLlama;
extern const char* const kLlamaBiasLinear;
extern const char* const kMistral;
extern const char* const kQwen2;
extern const char* const kQwen3;

}  // namespace test
