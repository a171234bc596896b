#pragma once
// mergekit's config schema (SPEC §1), read from JSON (the CLI and the page turn YAML
// into JSON first). Everything checkable without tensors is checked here.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "wasmerge/dtype.hpp"
#include "wasmerge/parameter.hpp"

namespace wasmerge {

enum class Method { Linear, TaskArithmetic, Ties, DareLinear, DareTies };

const char* method_name(Method m);

struct ModelEntry {
  std::string path;
  std::map<std::string, Parameter> parameters;
};

struct MergeConfig {
  Method method = Method::Linear;
  std::optional<std::string> base_model;
  std::vector<ModelEntry> models;  // the base, if listed there, is already removed
  std::map<std::string, Parameter> parameters;  // global
  std::optional<DType> dtype;
  std::optional<DType> out_dtype;
  uint64_t random_seed = 0;
  std::string tokenizer_source = "base";
  bool allow_nonfinite = false;  // ours: merge NaN/Inf inputs instead of refusing them

  // The output dtype for a mergeable tensor whose base dtype is `base_dtype`.
  DType output_dtype(DType base_dtype) const;
};

MergeConfig parse_config(const std::string& json_text);

// Which parameters a method reads, and their defaults (SPEC §2's table).
struct MethodTraits {
  bool needs_base;
  bool sparsify_random;     // DARE
  bool sparsify_magnitude;  // TIES
  bool consensus;           // sign election
  bool default_normalize;
  bool default_rescale;
  bool weight_required;
};
const MethodTraits& traits(Method m);

}  // namespace wasmerge
