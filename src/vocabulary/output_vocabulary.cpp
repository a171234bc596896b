// The output's vocabulary, as mergekit's tokenizer/build.py makes it:
//   source base / union: the base's tokenizer (base_model, else the first model), without
//     the tokens past its embedding's rows; source MODEL: that model's tokenizer, whole;
//   union: then every other model's tokens the output lacks, in config order (a model's
//     plain tokens in id order first, then its added tokens; the first settings of an
//     added token win), appended as added tokens;
//   then the `tokens:` entries the output still lacks.
// A model's vocabulary rows are its embedding's row count (mergekit reads config.json's
// vocab_size, which is that count): its tokens past them have no row and are ignored.
#include <algorithm>
#include <limits>
#include <set>
#include <unordered_set>

#include "wasmerge/architecture.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/plan.hpp"
#include "wasmerge/vocabulary.hpp"

namespace wasmerge {
namespace {

uint64_t vocabulary_rows(const Model& m) {
  uint64_t rows = std::numeric_limits<uint64_t>::max();
  for (const auto& t : m.tensors)
    if (is_vocabulary_tensor(t.info.name) && !t.info.shape.empty()) rows = std::min(rows, t.info.shape[0]);
  return rows;
}

class Builder {
 public:
  Builder(const MergePlan& plan, OutputVocabulary& v) : plan_(plan), v_(v) {}

  // The source tokenizer's tokens, which keep their ids.
  void start(const Model& source, bool strip) {
    const TokenizerVocab& vocab = v_.vocabs.at(source.path);
    const uint64_t rows = rows_.at(source.path);
    v_.tokenizer_model = &source;
    for (const auto& [id, token] : vocab.by_id()) {
      if (strip && id >= rows) {
        if (!vocab.added.count(id))
          fail(vocab.file, "",
               "token '" + token + "' (id " + std::to_string(id) + ") is past the " + std::to_string(rows) +
                   " rows of the model's embedding; wasmerge leaves out only added tokens there");
        v_.dropped.push_back(id);
        continue;
      }
      if (id != v_.tokens.size())
        fail(vocab.file, "", "has no token with id " + std::to_string(v_.tokens.size()) + ": its ids have a gap");
      take(token);
    }
    v_.kept = v_.tokens.size();
  }

  // mergekit's union: every model's plain tokens, then its added tokens.
  void add_union() {
    std::vector<std::string> plain;
    std::unordered_set<std::string> plain_seen;
    std::vector<AddedToken> added;
    std::map<std::string, size_t> added_at;
    std::set<std::string> warned;
    for (const auto& model : models_in_order()) {
      const TokenizerVocab& vocab = v_.vocabs.at(model->path);
      const uint64_t rows = rows_.at(model->path);
      for (const auto& [id, token] : vocab.by_id())
        if (id < rows && !vocab.added.count(id) && plain_seen.insert(token).second) plain.push_back(token);
      for (const auto& [id, token] : vocab.added) {
        if (id >= rows) continue;
        auto it = added_at.find(token.content);
        if (it == added_at.end()) {
          added_at[token.content] = added.size();
          added.push_back(token);
        } else if (!added[it->second].same_settings(token) && warned.insert(token.content).second) {
          v_.warnings.push_back(model->path + ": added token '" + token.content +
                                "' has other settings than in an earlier model; the first model's are kept");
        }
      }
    }
    for (const auto& token : plain)
      if (!added_at.count(token)) append(AddedToken{token});
    for (const auto& token : added) append(token);
  }

  void add_listed_tokens(const std::vector<std::pair<std::string, TokenSource>>& tokens) {
    for (const auto& entry : tokens) append(AddedToken{entry.first});
  }

  void set_rows(const OutputVocabulary& v, uint64_t pad) {
    v_.rows = v.tokens.size();
    if (pad && v_.rows % pad) v_.rows += pad - v_.rows % pad;
    for (const auto& model : plan_.models) {
      const TokenizerVocab& vocab = v_.vocabs.at(model->path);
      const uint64_t rows = rows_.at(model->path);
      std::vector<int64_t>& map = v_.rows_of[model->path];
      map.assign(v_.tokens.size(), -1);
      for (size_t i = 0; i < v_.tokens.size(); ++i) {
        auto it = vocab.ids.find(v_.tokens[i]);
        if (it != vocab.ids.end() && it->second < rows) map[i] = static_cast<int64_t>(it->second);
      }
    }
  }

  void read_models(InputFiles& files, const std::string& why) {
    for (const auto& model : plan_.models) {
      v_.vocabs[model->path] = read_tokenizer_vocab(files, *model, why);
      rows_[model->path] = vocabulary_rows(*model);
    }
  }

 private:
  // The base (the donor) first, then the others in config order.
  std::vector<const Model*> models_in_order() const {
    std::vector<const Model*> out = {plan_.donor};
    for (const auto& m : plan_.models)
      if (m.get() != plan_.donor) out.push_back(m.get());
    return out;
  }
  void take(const std::string& token) {
    index_.insert(token);
    v_.tokens.push_back(token);
  }
  void append(const AddedToken& token) {
    if (index_.count(token.content)) return;
    take(token.content);
    v_.appended.push_back(token);
  }

  const MergePlan& plan_;
  OutputVocabulary& v_;
  std::map<std::string, uint64_t> rows_;
  std::unordered_set<std::string> index_;
};

}  // namespace

std::shared_ptr<const OutputVocabulary> build_vocabulary(const MergePlan& plan, InputFiles& files) {
  const MergeConfig& c = plan.config;
  if (!c.tokenizer) return nullptr;
  const TokenizerSettings& t = *c.tokenizer;
  auto v = std::make_shared<OutputVocabulary>();
  v->source = t.source;
  Builder b(plan, *v);
  b.read_models(files, t.key);
  const bool from_base = t.source == "union" || t.source == "base";
  b.start(from_base ? *plan.donor : plan.model(t.source), from_base);
  if (t.source == "union") b.add_union();
  b.add_listed_tokens(t.tokens);
  b.set_rows(*v, t.pad_to_multiple_of);
  return v;
}

}  // namespace wasmerge
