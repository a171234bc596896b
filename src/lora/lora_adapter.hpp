#pragma once
// PEFT LoRA adapters merged into a model as it is read (SPEC §8): `path+adapter` opens the
// model, then each tensor the adapter touches becomes a computed tensor (W + s·B·A, DoRA's
// rescaled rows, a shifted bias, a modules_to_save replacement), read block by block.
#include "wasmerge/byte_io.hpp"
#include "wasmerge/model.hpp"

namespace wasmerge {

constexpr const char* kAdapterConfigName = "adapter_config.json";
constexpr const char* kAdapterWeightsName = "adapter_model.safetensors";

// Reads model.adapter's folder and attaches the adapted tensors to model's; every mismatch
// is an error naming the adapter file and the module, before any tensor byte is read.
void apply_lora_adapter(InputFiles& files, Model& model);

}  // namespace wasmerge
