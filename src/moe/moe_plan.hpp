#pragma once
// Planning an upcycled model (SPEC §7): choose the output architecture, then map the base's
// tensors to the output's — every non-MLP tensor from the base, each layer's MLP copied
// into E experts from the experts' models, a router per layer — as a MergePlan whose
// tensors are passthrough copies (converted to the dtype, residual_scale as passthrough's
// scale) or computed inputs (routers, noise, zero biases). The same writer then streams it.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "wasmerge/moe_config.hpp"
#include "wasmerge/plan.hpp"

namespace wasmerge {

using PromptTokens = std::map<std::string, std::vector<int32_t>>;

MergePlan make_moe_plan(MoeConfig config, InputFiles& files, uint64_t out_shard_size, const std::string& config_text,
                        const PromptTokens& prompt_tokens);

}  // namespace wasmerge
