// model_stock: moves from the base toward the models' mean by t, from the mean cosine
// between their task vectors (Model Stock, SPEC §6) — the whole tensor's, or each row's
// with filter_wise.
#include <algorithm>
#include <cmath>

#include "methods/combination.hpp"
#include "methods/described_method.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/plan.hpp"

namespace wasmerge {
namespace {

class ModelStock : public DescribedMethod {
 public:
  ModelStock() : DescribedMethod(describe()) {}

  std::unique_ptr<TensorMerge> bind(const OutputTensor& out) const override {
    const Grouping grouping = global(out, "filter_wise") != 0 ? Grouping::rows_of(out.info.shape) : Grouping::whole();
    const std::string tensor = out.info.name;
    return std::make_unique<CombinationMerge>(out, Vectors::TaskVectors, grouping, [tensor](const GramView& g) {
      const size_t N = g.size();
      double cos_sum = 0;
      size_t pairs = 0;
      for (size_t i = 0; i < N; ++i)
        for (size_t j = i + 1; j < N; ++j, ++pairs)
          cos_sum += std::clamp(g.at(i, j) / std::max(g.norm(i) * g.norm(j), 1e-6), -1.0, 1.0);
      const double cos = cos_sum / static_cast<double>(pairs);
      const double n = static_cast<double>(N), denominator = 1 + (n - 1) * cos;
      if (denominator == 0)
        fail("", tensor,
             "model_stock: the task vectors' mean cosine is −1/(N−1), so t = N·cos/(1+(N−1)·cos) divides by zero");
      const double t = n * cos / denominator;
      // t·mean(m) + (1−t)·b = b + (t/N)·Σ δ_k
      return std::vector<double>(N, t / n);
    });
  }

 private:
  static Description describe() {
    Description d;
    d.name = "model_stock";
    d.title = "Model Stock";
    d.url = "https://arxiv.org/abs/2403.19522";
    d.summary =
        "Moves from the base toward the average of the fine-tunes by a ratio t that comes from the angle between "
        "their task vectors: the more they agree, the closer to their average (per row with filter_wise).";
    d.formula = "cos = mean over pairs of cos∠(δᵢ, δⱼ);  t = N·cos/(1+(N−1)·cos);  result = t·mean(mₖ) + (1−t)·b";
    d.params = {ParamSpec::boolean("filter_wise", false)};
    d.models = {2, std::nullopt};
    d.needs_base = true;
    d.needs = {Fact::DotProducts};
    return d;
  }
};

}  // namespace

const MergeMethod& model_stock_method() {
  static const ModelStock method;
  return method;
}

}  // namespace wasmerge
