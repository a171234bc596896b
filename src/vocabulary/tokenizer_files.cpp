// The output's tokenizer files, edited from the tokenizer source's: the appended tokens in
// tokenizer.json's added_tokens, tokenizer_config.json's added_tokens_decoder and
// added_tokens.json (the ids past the source's rows taken out of all three), and
// tokenizer_config.json's chat_template. Key order and every other entry stay as they were.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "wasmerge/error.hpp"
#include "wasmerge/plan.hpp"
#include "wasmerge/vocabulary.hpp"

namespace wasmerge {
namespace {

using json = nlohmann::ordered_json;

json parse_object(const std::string& path, const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) fail(path, "", "is not a JSON object");
  return j;
}

bool dropped(const OutputVocabulary& v, uint64_t id) {
  return std::find(v.dropped.begin(), v.dropped.end(), id) != v.dropped.end();
}

std::string tokenizer_json(const OutputVocabulary& v, const std::string& path, const std::string& text) {
  json j = parse_object(path, text);
  json added = json::array();
  if (j.contains("added_tokens") && j["added_tokens"].is_array())
    for (const auto& entry : j["added_tokens"])
      if (!(entry.contains("id") && entry["id"].is_number_unsigned() && dropped(v, entry["id"].get<uint64_t>())))
        added.push_back(entry);
  for (size_t i = 0; i < v.appended.size(); ++i) {
    const AddedToken& t = v.appended[i];
    added.push_back(json{{"id", v.kept + i},
                         {"content", t.content},
                         {"single_word", t.single_word},
                         {"lstrip", t.lstrip},
                         {"rstrip", t.rstrip},
                         {"normalized", t.normalized},
                         {"special", t.special}});
  }
  j["added_tokens"] = added;
  return j.dump(2) + "\n";
}

// transformers' added_tokens_decoder entry: the settings in its (alphabetical) order.
json decoder_entry(const AddedToken& t) {
  return json{{"content", t.content}, {"lstrip", t.lstrip},           {"normalized", t.normalized},
              {"rstrip", t.rstrip},   {"single_word", t.single_word}, {"special", t.special}};
}

std::string tokenizer_config(const MergePlan& plan, const std::string& path, const std::string& text) {
  json j = text.empty() ? json::object() : parse_object(path, text);
  if (const OutputVocabulary* v = plan.vocabulary.get()) {
    json decoder = json::object();
    if (j.contains("added_tokens_decoder") && j["added_tokens_decoder"].is_object())
      for (const auto& item : j["added_tokens_decoder"].items()) {
        const bool numeric = !item.key().empty() && item.key().find_first_not_of("0123456789") == std::string::npos;
        if (!(numeric && item.key().size() < 20 && dropped(*v, std::stoull(item.key()))))
          decoder[item.key()] = item.value();
      }
    for (size_t i = 0; i < v->appended.size(); ++i)
      decoder[std::to_string(v->kept + i)] = decoder_entry(v->appended[i]);
    j["added_tokens_decoder"] = decoder;
  }
  if (plan.config.chat_template) j["chat_template"] = plan.config.chat_template->text;
  return j.dump(2) + "\n";
}

std::string added_tokens_json(const OutputVocabulary& v, const std::string& path, const std::string& text) {
  json j = parse_object(path, text);
  json out = json::object();
  for (const auto& item : j.items())
    if (!(item.value().is_number_unsigned() && dropped(v, item.value().get<uint64_t>())))
      out[item.key()] = item.value();
  for (size_t i = 0; i < v.appended.size(); ++i) out[v.appended[i].content] = v.kept + i;
  return out.dump(2) + "\n";
}

}  // namespace

std::string edited_tokenizer_file(const MergePlan& plan, const std::string& name, const std::string& path,
                                  const std::string& text) {
  const OutputVocabulary* v = plan.vocabulary.get();
  if (name == "tokenizer_config.json" && (v || plan.config.chat_template)) return tokenizer_config(plan, path, text);
  if (!v) return text;
  if (name == "tokenizer.json") return tokenizer_json(*v, path, text);
  if (name == "added_tokens.json") return added_tokens_json(*v, path, text);
  return text;
}

}  // namespace wasmerge
