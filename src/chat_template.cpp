#include "chat_template.hpp"

#include <algorithm>
#include <chat_templates.hpp>
#include <nlohmann/json.hpp>

#include "wasmerge/error.hpp"
#include "wasmerge/plan.hpp"

namespace wasmerge {
namespace {

std::string trimmed(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r\n") - a + 1);
}

// A model's own template: tokenizer_config.json's chat_template, a string or, as
// transformers also writes it, a list of {name, template} whose "default" counts.
std::string model_template(const Model& model, InputFiles& files) {
  const std::string path = model.folder_file("tokenizer_config.json");
  if (!model.is_folder || !files.file_size(path)) return "";
  const auto config = nlohmann::json::parse(read_small_file(files, path), nullptr, false);
  if (config.is_discarded() || !config.is_object() || !config.contains("chat_template")) return "";
  const auto& t = config["chat_template"];
  if (t.is_string()) return trimmed(t.get<std::string>());
  if (t.is_array())
    for (const auto& entry : t)
      if (entry.is_object() && entry.value("name", "") == "default" && entry.contains("template") &&
          entry["template"].is_string())
        return trimmed(entry["template"].get<std::string>());
  return "";
}

}  // namespace

std::vector<std::string> chat_template_names() {
  std::vector<std::string> names;
  for (const auto& t : kChatTemplates) names.push_back(t.first);
  return names;
}

ChatTemplate parse_chat_template(const std::string& value) {
  for (const auto& t : kChatTemplates)
    if (value == t.first) return ChatTemplate{t.first, t.second};
  if (value == "auto") return ChatTemplate{"auto", ""};
  // A Jinja template shows itself by its tags; a short word is a misspelt name.
  if (value.find("{%") != std::string::npos || value.find("{{") != std::string::npos) return ChatTemplate{"", value};
  std::string names;
  for (const auto& n : chat_template_names()) names += (names.empty() ? "" : ", ") + n;
  fail("config", "",
       "chat_template '" + value + "' is neither a built-in template (" + names +
           "), 'auto', nor a Jinja template (one with {% or {{)");
}

std::string shared_chat_template(const MergePlan& plan, InputFiles& files) {
  std::vector<std::pair<std::string, int>> counts;  // first-seen order
  for (const auto& model : plan.models) {
    const std::string t = model_template(*model, files);
    if (t.empty()) continue;
    auto it =
        std::find_if(counts.begin(), counts.end(), [&](const std::pair<std::string, int>& c) { return c.first == t; });
    if (it == counts.end())
      counts.emplace_back(t, 1);
    else
      ++it->second;
  }
  std::string best;
  int most = 0;
  for (const auto& c : counts)
    if (c.second > most) {
      best = c.first;
      most = c.second;
    }
  return best;
}

}  // namespace wasmerge
