#pragma once
// mergekit-moe's config schema (SPEC §7): a YAML with `experts:` and no `merge_method`
// upcycles a dense model into a mixture of experts. Read from JSON, as merge configs are;
// what needs no file is checked here.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wasmerge/dtype.hpp"

namespace wasmerge {

enum class GateMode { Hidden, HiddenAvg, HiddenLast, CheapEmbed, Random, UniformRandom };
const char* gate_mode_name(GateMode mode);
// The router comes from the prompts (a forward pass or the embeddings), not from random numbers.
bool uses_prompts(GateMode mode);
// It needs the base's hidden states: a forward pass.
bool uses_forward_pass(GateMode mode);

struct MoeExpert {
  std::string source_model;
  std::vector<std::string> positive_prompts, negative_prompts;
  std::optional<double> noise_scale;     // + N(0,1)·noise_scale on its MLP weights
  std::optional<double> residual_scale;  // times its down_proj
};

struct MoeConfig {
  std::string base_model;
  std::vector<MoeExpert> experts;
  std::vector<MoeExpert> shared_experts;  // Qwen2-MoE: exactly one
  GateMode gate_mode = GateMode::Hidden;
  int experts_per_token = 2;
  std::optional<DType> dtype;
  std::optional<std::string> architecture;  // a prefix of the output architecture's name
  uint64_t random_seed = 0;
  std::vector<std::string> warnings;

  // Every model read: the base, then each expert's model once, in config order.
  std::vector<std::string> models() const;
};

// What an upcycling plan builds, for the model card and the dry run.
struct MoeSummary {
  std::string architecture;  // "Mixtral", "Qwen2-MoE", "Qwen3-MoE"
  MoeConfig config;
};

// Whether a config (JSON text) is a mergekit-moe one: it has `experts` and no `merge_method`.
bool is_moe_config(const std::string& json_text);
MoeConfig parse_moe_config(const std::string& json_text);

}  // namespace wasmerge
