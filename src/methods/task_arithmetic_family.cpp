// The task arithmetic family's parameters and its per-tensor merge (see the header).
#include "methods/task_arithmetic_family.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include "explain.hpp"
#include "pipeline/block_pipeline.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/kernels.hpp"
#include "wasmerge/model.hpp"
#include "wasmerge/plan.hpp"
#include "wasmerge/sparsify.hpp"

namespace wasmerge {
namespace {

using Scope = ParamSpec::Scope;
using Kind = ParamSpec::Kind;

// One model's values of the rule's own parameters, in the rule's order.
std::vector<double> rule_params(const SparsifyRule& rule, const ParamValues& values) {
  std::vector<double> v;
  for (const ParamSpec& p : rule.params) v.push_back(values.number(p));
  return v;
}

// One output tensor merged by a member of the family.
class FamilyMerge : public TensorMerge {
 public:
  FamilyMerge(const TaskArithmeticFamily& method, const OutputTensor& out);

  PipelineNeeds needs() const override;
  void prepare(BlockPipeline& pipeline) override;
  const OrderedCount* write_count() const override { return sparsifier_ ? sparsifier_->order() : nullptr; }
  void combine(Chunk& chunk, float* out) const override;
  void finish_explanation(Explanation& e) const override;

 private:
  bool l1_rescale() const { return rescale_ && !inverse_density_ && sparsifier_; }
  void sparsify(const Chunk& chunk, size_t k, float* delta) const {
    if (sparsifier_) sparsifier_->mask(chunk, k, delta);
  }
  void l1_pass(BlockPipeline& pipeline);
  void mix_in_stages(Chunk& chunk, float* mixed) const;
  void elect_in_one_pass(Chunk& chunk, float* mixed) const;

  const TaskArithmeticFamily::Definition& d_;
  std::vector<float> weights_;   // w_k
  std::vector<float> rescales_;  // δ' = δ_kept · rescale_k
  bool normalize_, rescale_, inverse_density_;
  float lambda_;
  float divisor_ = 1.0f;                    // Σ w_k without consensus, when normalizing
  std::unique_ptr<Sparsifier> sparsifier_;  // none: every entry stays
};

FamilyMerge::FamilyMerge(const TaskArithmeticFamily& method, const OutputTensor& out) : d_(method.definition()) {
  auto spec = [&](const char* name) -> const ParamSpec& { return *method.param(name); };
  const bool sparsifies = d_.sparsify != nullptr;
  normalize_ = out.params.number(spec("normalize")) != 0;
  rescale_ = sparsifies && out.params.number(spec("rescale")) != 0;
  inverse_density_ = sparsifies && out.params.number(spec("rescale_mode")) != 0;
  lambda_ = d_.base ? static_cast<float>(out.params.number(spec("lambda"))) : 1.0f;
  SparsifyInput sparsify;
  sparsify.elements = out.info.num_elements();
  sparsify.row_length = out.info.shape.empty() ? 1 : out.info.shape.back();
  double weight_sum = 0;
  for (const auto& in : out.inputs) {
    const float weight = static_cast<float>(in.params.number(spec("weight")));
    const double density = sparsifies ? in.params.number(spec("density")) : 1.0;
    rescales_.push_back(rescale_ && inverse_density_ ? static_cast<float>(1.0 / density) : 1.0f);
    weights_.push_back(weight);
    weight_sum += weight;
    sparsify.densities.push_back(density);
    sparsify.params.push_back(sparsifies ? rule_params(*d_.sparsify, in.params) : std::vector<double>());
    sparsify.dare_streams.push_back(dare_stream(out.random_seed, out.info.name, in.model_index));
  }
  // Σ w_k, or 1 when normalizing is off or the sum vanishes (SPEC §2, no consensus).
  if (normalize_ && std::fabs(weight_sum) >= 1e-8) divisor_ = static_cast<float>(weight_sum);
  if (sparsifies) sparsifier_ = d_.sparsify->make(sparsify);
}

PipelineNeeds FamilyMerge::needs() const {
  PipelineNeeds n;
  n.task_vectors = true;
  n.several_passes = l1_rescale() || (sparsifier_ && sparsifier_->has_passes());
  if (l1_rescale()) n.bytes_per_element = sparsifier_->bytes_per_element();
  if (sparsifier_) n.row_length = sparsifier_->row_length();
  n.write_converts_models = d_.consensus;  // elect_in_one_pass
  return n;
}

void FamilyMerge::prepare(BlockPipeline& pipeline) {
  if (sparsifier_) sparsifier_->prepare(pipeline, l1_rescale());
  if (l1_rescale()) l1_pass(pipeline);
}

// ‖δ‖₁ and ‖δ_kept‖₁ per model, as f64 partials per chunk folded in chunk order;
// mergekit's L1 match, skipped when either norm vanishes. The sums of every |δ| stand in
// for the check for NaN and infinity: one in the base or a model makes a sum one.
void FamilyMerge::l1_pass(BlockPipeline& pipeline) {
  const size_t K = weights_.size();
  std::vector<double> all(K, 0.0), kept(K, 0.0);
  PassInputs inputs;
  inputs.convert_models = !sparsifier_->sums_as_read();  // DARE: bf16 converted on the way into its sums
  inputs.step_flags_nonfinite = pipeline.base_in_every_model();
  pipeline.reduce<std::vector<double>>(
      [&](Chunk& chunk) {
        std::vector<double> sums(2 * K);
        for (size_t k = 0; k < K; ++k) {
          if (!sparsifier_->kept_abs_sums(chunk, k, chunk.models[k], &sums[2 * k], &sums[2 * k + 1])) {
            chunk.convert_models();
            sums[2 * k] = abs_sum(chunk.models[k], chunk.count);
            sparsify(chunk, k, chunk.models[k]);
            sums[2 * k + 1] = abs_sum(chunk.models[k], chunk.count);
          }
          chunk.maybe_nonfinite = chunk.maybe_nonfinite || !std::isfinite(sums[2 * k]);
        }
        return sums;
      },
      [&](std::vector<double>& sums) {
        for (size_t k = 0; k < K; ++k) {
          all[k] += sums[2 * k];
          kept[k] += sums[2 * k + 1];
        }
      },
      write_count(), inputs);
  sparsifier_->pass_done();
  for (size_t k = 0; k < K; ++k)
    rescales_[k] = (all[k] < 1e-7 || kept[k] < 1e-7) ? 1.0f : static_cast<float>(all[k] / kept[k]);
}

void FamilyMerge::combine(Chunk& chunk, float* out) const {
  float* mixed = chunk.base ? chunk.scratch : out;
  if (d_.consensus && !chunk.observer) {
    elect_in_one_pass(chunk, mixed);
  } else {
    chunk.convert_models();
    mix_in_stages(chunk, mixed);
  }
  chunk.observe("mixed", -1, mixed);
  if (chunk.base) add_lambda_times(out, chunk.base, mixed, lambda_, chunk.count);  // b + λ·mixed
  chunk.observe("result", -1, out);
}

// Each stage over whole arrays, for the explanation to see (and for the methods without
// an election).
void FamilyMerge::mix_in_stages(Chunk& chunk, float* mixed) const {
  const size_t n = chunk.count, K = weights_.size();
  for (size_t k = 0; k < K; ++k) {
    float* delta = chunk.models[k];
    chunk.observe("delta", static_cast<int>(k), delta);
    sparsify(chunk, k, delta);
    if (rescales_[k] != 1.0f) scale_into(delta, delta, rescales_[k], n);
    chunk.observe("kept", static_cast<int>(k), delta);
    scale_into(delta, delta, weights_[k], n);  // ω_k = w_k · δ'_k
    chunk.observe("weighted", static_cast<int>(k), delta);
  }
  if (d_.consensus) {
    elect_and_merge(mixed, chunk.models, weights_.data(), K, normalize_, n, chunk.scratch + chunk.capacity);
  } else {
    std::copy(chunk.models[0], chunk.models[0] + n, mixed);
    for (size_t k = 1; k < K; ++k) add_scaled(mixed, chunk.models[k], 1.0f, n);
    if (divisor_ != 1.0f) divide(mixed, divisor_, n);
  }
}

// The same bits as mix_in_stages' election, with the rescale and weighting (and the mask,
// where the sparsifier can fold it: TIES' cut, DARE's recorded draws) applied on the way
// in: one pass over the δ. A bf16 task vector whose mask folds without its values is
// converted on the way in too; any other is converted first.
void FamilyMerge::elect_in_one_pass(Chunk& chunk, float* mixed) const {
  const size_t K = weights_.size();
  thread_local std::vector<WeighedDelta> models;
  models.resize(K);
  for (size_t k = 0; k < K; ++k) {
    WeighedDelta& m = models[k];
    m = WeighedDelta{chunk.models[k], 0, nullptr, rescales_[k], weights_[k]};
    const RawModel& raw = chunk.raw_models[k];
    if (!chunk.converted) {
      if (raw.dtype == DType::BF16 && raw.base && (!sparsifier_ || sparsifier_->fold_mask(chunk, k, nullptr, m))) {
        m.delta = nullptr;
        m.bf16 = raw.bytes;
        m.base = raw.base;
        continue;
      }
      chunk.convert_model(k);
    }
    if (!sparsifier_ || sparsifier_->fold_mask(chunk, k, m.delta, m)) continue;
    sparsify(chunk, k, m.delta);
  }
  weigh_elect_and_merge(mixed, models.data(), K, normalize_, chunk.count, chunk.scratch + chunk.capacity);
}

// The election, by the kernel's own rule, from the weighted vectors.
void FamilyMerge::finish_explanation(Explanation& e) const {
  if (!d_.consensus) return;
  const auto& weighted = e.model_stage("weighted");
  const size_t count = e.count();
  std::vector<int> sign(count);
  std::vector<std::vector<int>> agree(weighted.size(), std::vector<int>(count));
  for (size_t i = 0; i < count; ++i) {
    float sum = weighted[0][i];
    for (size_t k = 1; k < weighted.size(); ++k) sum = sum + weighted[k][i];
    const bool positive = elected_positive(sum);
    sign[i] = positive ? 1 : -1;
    for (size_t k = 0; k < weighted.size(); ++k) agree[k][i] = agrees_with(weighted[k][i], positive);
  }
  e.add("sign", sign);
  e.add("agree", agree);
}

}  // namespace

TaskArithmeticFamily::TaskArithmeticFamily(Definition d) : d_(std::move(d)) {
  params_.push_back(ParamSpec::number("weight", Scope::PerModel, d_.weight_required ? std::nullopt : std::optional<double>(1.0),
                           d_.weight_required));
  if (d_.sparsify) {
    ParamSpec density = ParamSpec::number("density", Scope::PerModel, 1.0);
    density.min = 0.0;
    density.min_exclusive = true;
    density.max = 1.0;
    params_.push_back(density);
    params_.insert(params_.end(), d_.sparsify->params.begin(), d_.sparsify->params.end());
  }
  params_.push_back(ParamSpec::boolean("normalize", d_.default_normalize));
  if (d_.base) params_.push_back(ParamSpec::number("lambda", Scope::Global, 1.0));
  if (d_.sparsify) {
    params_.push_back(ParamSpec::boolean("rescale", d_.default_rescale));
    ParamSpec mode = ParamSpec::number("rescale_mode", Scope::Global, 0.0);
    mode.kind = Kind::Choice;
    mode.choices = {"l1", "inverse_density"};
    params_.push_back(mode);
  }
  params_.push_back(ParamSpec::boolean("int8_mask", false));  // accepted; it only saves memory in mergekit
}

std::vector<Fact> TaskArithmeticFamily::needs() const {
  if (!d_.sparsify) return {};
  std::vector<Fact> facts = d_.sparsify->needs;
  facts.push_back(Fact::L1Norms);  // rescale's L1 match
  return facts;
}

std::vector<std::string> TaskArithmeticFamily::stages() const {
  std::vector<std::string> stages = {"delta"};
  if (d_.sparsify) stages.push_back("kept");  // else always δ itself
  stages.push_back("weighted");
  if (d_.consensus) stages.push_back("sign");
  stages.insert(stages.end(), {"mixed", "result"});
  return stages;
}

void TaskArithmeticFamily::check(const OutputTensor& out) const {
  if (!d_.sparsify || !d_.sparsify->check) return;
  for (const auto& in : out.inputs) {
    const std::string problem =
        d_.sparsify->check(in.params.number(*param("density")), rule_params(*d_.sparsify, in.params));
    if (!problem.empty()) fail(in.tensor->source->name(), out.info.name, problem);
  }
}

std::unique_ptr<TensorMerge> TaskArithmeticFamily::bind(const OutputTensor& out) const {
  return std::make_unique<FamilyMerge>(*this, out);
}

}  // namespace wasmerge
