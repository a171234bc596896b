#pragma once
// mergekit's config schema (SPEC §1, §5), read from JSON (the CLI and the page turn YAML
// into JSON first). Everything checkable without tensors is checked here, against the
// method's own description (method.hpp).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wasmerge/dtype.hpp"
#include "wasmerge/method.hpp"
#include "wasmerge/parameter.hpp"

namespace wasmerge {

using Parameters = std::map<std::string, Parameter>;

struct SliceSource {
  std::string model;                               // the path as written
  std::optional<std::pair<int, int>> layer_range;  // half-open; none: every layer (`models:`)
  Parameters parameters;                           // per-model parameters of this source
};

// One entry of `slices:`; `models:` is read as one slice over every layer.
struct Slice {
  std::optional<SliceSource> base;   // the source from base_model, when the method uses a base
  std::vector<SliceSource> sources;  // the method's models, in config order
  Parameters parameters;             // the slice's own (global within the slice)
};

struct MergeConfig {
  const MergeMethod* method = nullptr;
  std::optional<std::string> base_model;
  bool uses_slices = false;  // the config says `slices:` (else `models:`)
  std::vector<Slice> slices;
  Parameters parameters;  // global
  std::optional<DType> dtype;
  std::optional<DType> out_dtype;
  uint64_t random_seed = 0;
  std::string tokenizer_source = "base";
  bool allow_nonfinite = false;       // ours: merge NaN/Inf inputs instead of refusing them
  std::vector<std::string> warnings;  // parameters that are given but not used

  // The output dtype for a mergeable tensor whose base dtype is `base_dtype`.
  DType output_dtype(DType base_dtype) const;
  // A base_model is named and the method uses it as the base.
  bool uses_base() const;
  // Every model path the merge reads besides the base, once each, in config order.
  std::vector<std::string> merged_models() const;
};

MergeConfig parse_config(const std::string& json_text);

}  // namespace wasmerge
