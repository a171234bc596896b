#pragma once
// What goes beside the weights, as mergekit writes it: the base's config.json with
// torch_dtype updated, the tokenizer files, and a README.md model card.
#include <string>

#include "wasmerge/byte_io.hpp"
#include "wasmerge/plan.hpp"

namespace wasmerge {

// The Hugging Face index of a sharded output: total_size and tensor -> shard file.
std::string shard_index_json(const MergePlan& plan);
std::string model_card(const MergePlan& plan, const std::string& config_text);
// Copies config.json and tokenizer files (from tokenizer_source) when it is a folder.
void write_companion_files(const MergePlan& plan, InputFiles& inputs, OutputFiles& outputs);

}  // namespace wasmerge
