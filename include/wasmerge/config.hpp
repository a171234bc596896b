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

// Where the embedding row of one token comes from when a model lacks it (or `force`):
// mergekit's TokenEmbeddingConfig, one entry of `tokenizer: tokens:`.
struct TokenSource {
  enum class Kind { Model, ModelToken, Zero };
  Kind kind = Kind::Zero;
  std::string model;                    // Model, ModelToken
  std::optional<uint64_t> token_id;     // ModelToken: a row of that model's tensor ...
  std::optional<std::string> token;     // ... or the row of this token in its own vocabulary
  bool force = false;                   // also where the model has the token
};

// `tokenizer:` (or `tokenizer_source: union`): the output vocabulary is built, and every
// model's vocabulary rows are remapped to it before the merge (src/vocabulary/).
struct TokenizerSettings {
  std::string source = "union";  // union | base | a model path
  std::vector<std::pair<std::string, TokenSource>> tokens;  // config order
  uint64_t pad_to_multiple_of = 0;  // 0: none
  std::string key = "tokenizer";    // how the config asked, for messages
};

// `chat_template:` a built-in name (its text from data/chat_templates/), "auto" (the
// template most of the models share, found by the plan) or a literal Jinja template.
struct ChatTemplate {
  std::string name;  // the built-in's name, "auto", or empty for a literal
  std::string text;  // empty for "auto" until the plan picks one
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
  std::string tokenizer_source = "base";     // whose tokenizer files the output starts from
  std::optional<TokenizerSettings> tokenizer;  // a vocabulary change, when asked
  std::optional<ChatTemplate> chat_template;  // written into tokenizer_config.json
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
