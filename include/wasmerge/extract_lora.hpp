#pragma once
// mergekit-extract-lora (SPEC §8): a PEFT LoRA adapter of δ = fine-tune − base, written as
// adapter_model.safetensors + adapter_config.json. Every 2-D layer tensor becomes
// lora_A = diag(√S_r)·V_rᵀ [r, in], lora_B = U_r·diag(√S_r) [out, r] (distribute_scale
// false: diag(S_r)·V_rᵀ and U_r), lora_alpha = r, so PEFT's scale alpha/r is 1.
// Embeddings and output heads, other 2-D tensors and 1-D tensors go to modules_to_save as
// the fine-tune's tensors; with embed_lora, embeddings get lora_embedding_A [r, vocab] and
// lora_embedding_B [dim, r] (W' = W + (B·A)ᵀ) and output heads a linear adapter. The bias
// of an adapted module goes in as its lora_B.bias (δ; "lora_bias": true). Tensors equal in
// both models are left out. Singular values below sv_epsilon are dropped (rank_pattern
// and alpha_pattern name the modules whose rank ends below the largest).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wasmerge/byte_io.hpp"
#include "wasmerge/dtype.hpp"
#include "wasmerge/merge.hpp"

namespace wasmerge {

enum class SvdMethod { Auto, Exact, Randomized };

struct ExtractOptions {
  std::string base, model;  // paths as the host resolves them (folders or .safetensors files)
  size_t rank = 0;
  double sv_epsilon = 0;
  bool distribute_scale = true;
  bool embed_lora = false;
  std::optional<std::string> include, exclude;  // ECMAScript regexes searched in tensor names
  std::optional<DType> dtype;                   // the factors' dtype; default: each fine-tune tensor's
  SvdMethod svd = SvdMethod::Auto;
  uint64_t random_seed = 0;  // the randomized SVD's test matrices
  unsigned threads = 0;
  uint64_t memory_mb = 1024;
};

struct ExtractResult {
  std::vector<std::string> files;
  size_t tensor_count = 0;  // tensors in adapter_model.safetensors
  uint64_t tensor_bytes = 0;
};

// Writes the adapter through outputs and commits; on any failure or cancel, discards it.
ExtractResult extract_lora(const ExtractOptions& options, InputFiles& inputs, OutputFiles& outputs,
                           const ProgressFn& on_progress = {}, const WarningFn& on_warning = {});

}  // namespace wasmerge
