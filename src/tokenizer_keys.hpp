#pragma once
// The config keys about the output's tokenizer: `tokenizer_source`, `tokenizer` (mergekit's
// TokenizerConfig) and `chat_template`. Read after the models, whose paths they name.
#include <nlohmann/json.hpp>

#include "wasmerge/config.hpp"

namespace wasmerge {

void parse_tokenizer_keys(const nlohmann::json& root, MergeConfig& c);

}  // namespace wasmerge
