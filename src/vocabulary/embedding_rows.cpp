// Each model's rows of one vocabulary tensor in the output's token order, with mergekit's
// fill for the tokens a model lacks (tokenizer/embed.py), decided per token:
//   1. a `tokens:` entry: its source (a model's row of the token, a model_token row, zeros);
//   2. else, when exactly one model of the tensor has the token: that model's row;
//   3. else, when none has it: zeros (with a warning);
//   4. else, when the base has it: the base's row;
//   5. else the mean of the rows of the models that have it.
// A model that has the token keeps its own row, unless the entry says `force`. The models
// of a tensor are the config's base_model (when it has the tensor) and the tensor's inputs.
#include <algorithm>

#include "wasmerge/architecture.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/plan.hpp"
#include "wasmerge/vocabulary.hpp"

namespace wasmerge {
namespace {

struct Participant {
  const Model* model;
  const ModelTensor* tensor;
};

class TensorRemap {
 public:
  TensorRemap(MergePlan& plan, const OutputTensor& out)
      : plan_(plan), v_(*plan.vocabulary), ref_(out.base ? *out.base : *out.inputs.front().tensor) {
    if (plan.config.base_model) add(plan.model(*plan.config.base_model).find(ref_.info.name));
    if (out.base) add(out.base);
    for (const auto& in : out.inputs) add(in.tensor);
    for (const auto& entry : plan.config.tokenizer->tokens) configs_[entry.first] = &entry.second;
    base_ = plan.config.base_model ? &plan.model(*plan.config.base_model) : nullptr;
  }

  // The map of one participant's tensor; null when it is its own tensor, row for row.
  std::shared_ptr<const RowMap> map_of(const ModelTensor* t) {
    const Model& m = plan_.owner(*t);
    auto it = maps_.find(&m);
    if (it != maps_.end()) return it->second;
    auto map = std::make_shared<RowMap>();
    map->tokens = v_.tokens.size();
    map->rows = v_.rows;
    map->fills = fills_;
    map->source.resize(v_.tokens.size());
    const std::vector<int64_t>& own = v_.rows_of.at(m.path);
    bool identity = v_.rows == t->info.shape[0] && v_.rows == v_.tokens.size();
    for (size_t i = 0; i < v_.tokens.size(); ++i) {
      const TokenSource* cfg = config_of(i);
      map->source[i] = own[i] >= 0 && !(cfg && cfg->force) ? own[i] : -1 - fill_of(i);
      identity = identity && map->source[i] == static_cast<int64_t>(i);
    }
    return maps_[&m] = identity ? nullptr : std::shared_ptr<const RowMap>(map);
  }

  // Every configured token's fill is checked, needed or not (mergekit computes them all).
  void check_configured_tokens() {
    for (size_t i = 0; i < v_.tokens.size(); ++i)
      if (config_of(i)) fill_of(i);
  }

  void finish() {
    if (zero_tokens_)
      plan_.warnings.push_back(where("", ref_.info.name,
                                     std::to_string(zero_tokens_) + " tokens are in none of its models (first: '" +
                                         first_zero_ + "'): their rows are zeros"));
  }

 private:
  void add(const ModelTensor* t) {
    if (!t) return;
    const Model* m = &plan_.owner(*t);
    for (const auto& p : participants_)
      if (p.model == m) return;
    if (t->info.shape.empty() || columns_of(t->info) != columns_of(ref_.info))
      fail(t->source->name(), t->info.name,
           "its rows have " + std::to_string(t->info.shape.empty() ? 0 : columns_of(t->info)) + " values, " +
               std::to_string(columns_of(ref_.info)) + " in " + ref_.source->name() +
               ": a vocabulary change needs rows of one size");
    if (!is_mergeable(t->info.dtype))
      fail(t->source->name(), t->info.name,
           std::string("dtype ") + dtype_name(t->info.dtype) + ": a vocabulary change needs float rows");
    participants_.push_back({m, t});
  }

  const TokenSource* config_of(size_t i) const {
    auto it = configs_.find(v_.tokens[i]);
    return it == configs_.end() ? nullptr : it->second;
  }

  const ModelTensor& tensor_in(const std::string& model) const {
    for (const auto& p : participants_)
      if (p.model->path == model) return *p.tensor;
    const ModelTensor* t = plan_.model(model).find(ref_.info.name);
    if (!t) fail(model, ref_.info.name, "missing, and a tokenizer.tokens entry takes rows from it");
    return *t;
  }

  RowTerm term(const std::string& model, uint64_t row, const std::string& token) const {
    const ModelTensor& t = tensor_in(model);
    if (row >= t.info.shape[0])
      fail("config", "",
           "tokenizer.tokens '" + token + "': row " + std::to_string(row) + " is past the " +
               std::to_string(t.info.shape[0]) + " rows of " + model + "'s " + t.info.name);
    return RowTerm{&t, row};
  }

  RowFill configured_fill(size_t i, const TokenSource& cfg) const {
    const std::string& token = v_.tokens[i];
    const std::string where_token = "tokenizer.tokens '" + token + "': ";
    switch (cfg.kind) {
      case TokenSource::Kind::Zero: return RowFill{};
      case TokenSource::Kind::Model: {
        const int64_t row = v_.rows_of.at(cfg.model)[i];
        if (row < 0) fail("config", "", where_token + "source model " + cfg.model + " has no such token");
        return RowFill{{term(cfg.model, static_cast<uint64_t>(row), token)}};
      }
      case TokenSource::Kind::ModelToken: {
        uint64_t row = cfg.token_id.value_or(0);
        if (cfg.token) {
          const auto& ids = v_.vocabs.at(cfg.model).ids;
          auto it = ids.find(*cfg.token);
          if (it == ids.end())
            fail("config", "", where_token + "model " + cfg.model + " has no token '" + *cfg.token + "'");
          row = it->second;
        }
        return RowFill{{term(cfg.model, row, token)}};
      }
    }
    return RowFill{};
  }

  RowFill default_fill(size_t i) {
    std::vector<const Participant*> having;
    for (const auto& p : participants_)
      if (v_.rows_of.at(p.model->path)[i] >= 0) having.push_back(&p);
    auto row_in = [&](const Participant& p) {
      return RowTerm{p.tensor, static_cast<uint64_t>(v_.rows_of.at(p.model->path)[i])};
    };
    if (having.size() == 1) return RowFill{{row_in(*having.front())}};
    if (having.empty()) {
      if (zero_tokens_++ == 0) first_zero_ = v_.tokens[i];
      return RowFill{};
    }
    for (const Participant* p : having)
      if (p->model == base_) return RowFill{{row_in(*p)}};
    RowFill mean;
    for (const Participant* p : having) mean.terms.push_back(row_in(*p));
    return mean;
  }

  // The index of token i's fill, made the first time a model needs it.
  int64_t fill_of(size_t i) {
    auto it = fill_index_.find(i);
    if (it != fill_index_.end()) return it->second;
    const TokenSource* cfg = config_of(i);
    fills_->push_back(cfg ? configured_fill(i, *cfg) : default_fill(i));
    return fill_index_[i] = static_cast<int64_t>(fills_->size() - 1);
  }

  MergePlan& plan_;
  const OutputVocabulary& v_;
  const ModelTensor& ref_;
  const Model* base_ = nullptr;
  std::vector<Participant> participants_;
  std::map<std::string, const TokenSource*> configs_;
  std::shared_ptr<std::vector<RowFill>> fills_ = std::make_shared<std::vector<RowFill>>();
  std::map<size_t, int64_t> fill_index_;
  std::map<const Model*, std::shared_ptr<const RowMap>> maps_;
  size_t zero_tokens_ = 0;
  std::string first_zero_;
};

}  // namespace

void remap_vocabulary_tensor(MergePlan& plan, OutputTensor& out) {
  TensorRemap remap(plan, out);
  const OutputVocabulary& v = *plan.vocabulary;
  remap.check_configured_tokens();
  if (out.base) out.base_rows = remap.map_of(out.base);
  for (auto& in : out.inputs) in.rows = remap.map_of(in.tensor);
  remap.finish();
  out.info.shape[0] = v.rows;
  out.action = TensorAction::Merge;
  out.copy_from = nullptr;
}

}  // namespace wasmerge
