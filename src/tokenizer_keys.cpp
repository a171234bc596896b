// `tokenizer_source`, `tokenizer` and `chat_template`, checked against the models of the
// config: every model a token's source names must be one of them.
#include "tokenizer_keys.hpp"

#include <algorithm>

#include "chat_template.hpp"
#include "wasmerge/error.hpp"

namespace wasmerge {
namespace {

using json = nlohmann::json;

[[noreturn]] void config_error(const std::string& what) { fail("config", "", what); }

bool is_model(const MergeConfig& c, const std::string& path) {
  if (c.base_model && *c.base_model == path) return true;
  const auto models = c.merged_models();
  return std::find(models.begin(), models.end(), path) != models.end();
}

void check_keys(const json& object, const std::vector<std::string>& keys, const std::string& where) {
  for (const auto& item : object.items())
    if (std::find(keys.begin(), keys.end(), item.key()) == keys.end())
      config_error("unknown key '" + item.key() + "' in " + where);
}

std::string model_of(const MergeConfig& c, const json& v, const std::string& where) {
  if (!v.is_string() || v.get<std::string>().empty()) config_error(where + " must be a model path");
  const std::string path = v.get<std::string>();
  if (!is_model(c, path)) config_error(where + " '" + path + "' is not among the models of the merge");
  return path;
}

// One entry of tokens: {source: MODEL | {kind: zero} | {kind: model_token, model, token_id | token}, force}.
TokenSource parse_token_source(const MergeConfig& c, const std::string& token, const json& entry) {
  const std::string where = "tokenizer.tokens '" + token + "'";
  if (!entry.is_object()) config_error(where + " must be a map with a source");
  check_keys(entry, {"source", "force"}, where);
  TokenSource s;
  if (entry.contains("force")) {
    if (!entry["force"].is_boolean()) config_error(where + ": force must be true or false");
    s.force = entry["force"].get<bool>();
  }
  if (!entry.contains("source") || entry["source"].is_null()) config_error(where + " needs a source");
  const json& source = entry["source"];
  if (source.is_string()) {
    s.kind = TokenSource::Kind::Model;
    s.model = model_of(c, source, where + ": source");
    return s;
  }
  if (!source.is_object() || !source.contains("kind") || !source["kind"].is_string())
    config_error(where + ": source must be a model path, {kind: zero} or {kind: model_token, model, token_id | token}");
  const std::string kind = source["kind"].get<std::string>();
  if (kind == "zero") {
    check_keys(source, {"kind"}, where + "'s source");
    s.kind = TokenSource::Kind::Zero;
    return s;
  }
  if (kind != "model_token") config_error(where + ": unknown source kind '" + kind + "' (zero or model_token)");
  check_keys(source, {"kind", "model", "token_id", "token"}, where + "'s source");
  s.kind = TokenSource::Kind::ModelToken;
  s.model = model_of(c, source.value("model", json()), where + ": model");
  const bool has_id = source.contains("token_id") && !source["token_id"].is_null();
  const bool has_token = source.contains("token") && !source["token"].is_null();
  if (has_id == has_token) config_error(where + ": model_token needs one of token_id and token");
  if (has_id) {
    if (!source["token_id"].is_number_unsigned()) config_error(where + ": token_id must be a non-negative integer");
    s.token_id = source["token_id"].get<uint64_t>();
  } else {
    if (!source["token"].is_string()) config_error(where + ": token must be a string");
    s.token = source["token"].get<std::string>();
  }
  return s;
}

TokenizerSettings parse_tokenizer(const MergeConfig& c, const json& v) {
  if (!v.is_object()) config_error("tokenizer must be a map (source, tokens, pad_to_multiple_of)");
  check_keys(v, {"source", "tokens", "pad_to_multiple_of"}, "tokenizer");
  TokenizerSettings t;
  if (v.contains("source") && !v["source"].is_null()) {
    if (!v["source"].is_string()) config_error("tokenizer.source must be 'union', 'base' or a model path");
    t.source = v["source"].get<std::string>();
    if (t.source != "union" && t.source != "base") model_of(c, v["source"], "tokenizer.source");
  }
  if (v.contains("tokens") && !v["tokens"].is_null()) {
    if (!v["tokens"].is_object()) config_error("tokenizer.tokens must be a map from token to {source, force}");
    for (const auto& item : v["tokens"].items())
      t.tokens.emplace_back(item.key(), parse_token_source(c, item.key(), item.value()));
  }
  if (v.contains("pad_to_multiple_of") && !v["pad_to_multiple_of"].is_null()) {
    const json& p = v["pad_to_multiple_of"];
    if (!p.is_number_unsigned() || p.get<uint64_t>() == 0 || p.get<uint64_t>() > (1u << 20))
      config_error("tokenizer.pad_to_multiple_of must be a positive integer (at most 1048576)");
    t.pad_to_multiple_of = p.get<uint64_t>();
  }
  return t;
}

}  // namespace

void parse_tokenizer_keys(const json& root, MergeConfig& c) {
  const bool has_source = root.contains("tokenizer_source") && !root["tokenizer_source"].is_null();
  const bool has_tokenizer = root.contains("tokenizer") && !root["tokenizer"].is_null();
  if (has_source && has_tokenizer) config_error("give either tokenizer_source or tokenizer, not both");
  if (has_source) {
    const auto& ts = root["tokenizer_source"];
    if (!ts.is_string()) config_error("tokenizer_source must be 'base', 'union' or a model path");
    c.tokenizer_source = ts.get<std::string>();
    if (c.tokenizer_source == "union") {
      c.tokenizer = TokenizerSettings();
      c.tokenizer->key = "tokenizer_source: union";
      c.tokenizer_source = "base";  // the union starts from the base's tokenizer files
    }
  }
  if (has_tokenizer) {
    c.tokenizer = parse_tokenizer(c, root["tokenizer"]);
    c.tokenizer_source = c.tokenizer->source == "union" ? "base" : c.tokenizer->source;
  }
  if (root.contains("chat_template") && !root["chat_template"].is_null()) {
    if (!root["chat_template"].is_string()) config_error("chat_template must be a template name or a Jinja template");
    c.chat_template = parse_chat_template(root["chat_template"].get<std::string>());
  }
}

}  // namespace wasmerge
