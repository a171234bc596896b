// Reading a model's tokenizer.json: the tokenizers library's format, whatever the model
// type (BPE, WordPiece, WordLevel: vocab is {token: id}; Unigram: [[piece, score], ...]
// by id), plus added_tokens. Nothing but the token -> id map and the added tokens is kept.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "wasmerge/error.hpp"
#include "wasmerge/vocabulary.hpp"

namespace wasmerge {
namespace {

using json = nlohmann::json;

bool flag(const json& entry, const char* key, bool fallback) {
  return entry.contains(key) && entry[key].is_boolean() ? entry[key].get<bool>() : fallback;
}

void add_token(TokenizerVocab& v, std::unordered_map<uint64_t, std::string>& taken, const std::string& token,
               uint64_t id) {
  auto t = taken.find(id);
  if (t != taken.end() && t->second != token)
    fail(v.file, "", "id " + std::to_string(id) + " is both '" + t->second + "' and '" + token + "'");
  auto it = v.ids.find(token);
  if (it != v.ids.end() && it->second != id)
    fail(v.file, "", "token '" + token + "' has two ids, " + std::to_string(it->second) + " and " + std::to_string(id));
  v.ids[token] = id;
  taken[id] = token;
}

}  // namespace

bool AddedToken::same_settings(const AddedToken& o) const {
  return content == o.content && single_word == o.single_word && lstrip == o.lstrip && rstrip == o.rstrip &&
         normalized == o.normalized && special == o.special;
}

std::vector<std::pair<uint64_t, std::string>> TokenizerVocab::by_id() const {
  std::vector<std::pair<uint64_t, std::string>> out;
  out.reserve(ids.size());
  for (const auto& entry : ids) out.emplace_back(entry.second, entry.first);
  std::sort(out.begin(), out.end());
  return out;
}

TokenizerVocab read_tokenizer_vocab(InputFiles& files, const Model& model, const std::string& why) {
  TokenizerVocab v;
  v.file = model.folder_file("tokenizer.json");
  if (!model.is_folder || !files.file_size(v.file))
    fail(model.path, "", "has no tokenizer.json, which " + why + " reads from every model");
  const json j = json::parse(read_small_file(files, v.file), nullptr, false);
  if (j.is_discarded() || !j.is_object()) fail(v.file, "", "is not valid JSON");
  if (!j.contains("model") || !j["model"].is_object() || !j["model"].contains("vocab"))
    fail(v.file, "", "has no model.vocab");
  std::unordered_map<uint64_t, std::string> taken;
  const json& vocab = j["model"]["vocab"];
  if (vocab.is_object()) {
    for (const auto& item : vocab.items()) {
      if (!item.value().is_number_unsigned()) fail(v.file, "", "model.vocab['" + item.key() + "'] is not an id");
      add_token(v, taken, item.key(), item.value().get<uint64_t>());
    }
  } else if (vocab.is_array()) {  // Unigram: the id is the position
    for (size_t i = 0; i < vocab.size(); ++i) {
      if (!vocab[i].is_array() || vocab[i].empty() || !vocab[i][0].is_string())
        fail(v.file, "", "model.vocab[" + std::to_string(i) + "] is not [piece, score]");
      add_token(v, taken, vocab[i][0].get<std::string>(), i);
    }
  } else {
    fail(v.file, "", "model.vocab is neither a map nor a list");
  }
  if (j.contains("added_tokens") && j["added_tokens"].is_array())
    for (const auto& entry : j["added_tokens"]) {
      if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_number_unsigned() ||
          !entry.contains("content") || !entry["content"].is_string())
        fail(v.file, "", "an entry of added_tokens has no id or content");
      AddedToken t;
      t.content = entry["content"].get<std::string>();
      t.single_word = flag(entry, "single_word", false);
      t.lstrip = flag(entry, "lstrip", false);
      t.rstrip = flag(entry, "rstrip", false);
      t.normalized = flag(entry, "normalized", true);
      t.special = flag(entry, "special", false);
      const uint64_t id = entry["id"].get<uint64_t>();
      add_token(v, taken, t.content, id);
      v.added[id] = t;
    }
  return v;
}

}  // namespace wasmerge
