// multislerp: mergekit's barycentric interpolation on the sphere (SPEC §6). The models'
// unit directions are averaged with their weights, the average is taken as the point
// where the sphere is flattened (its tangent space), the weighted mean of the directions
// there is mapped back onto the sphere, and the result gets the weighted mean length.
// Every vector involved is a combination of the inputs, so the whole computation runs on
// coefficients from the dot products.
#include <cmath>
#include <numeric>

#include "math/deterministic_math.hpp"
#include "methods/combination.hpp"
#include "methods/described_method.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/plan.hpp"

namespace wasmerge {
namespace {

std::vector<double> multislerp_coefficients(const GramView& g, const std::vector<double>& w, double eps,
                                            const std::string& tensor) {
  const size_t K = w.size();
  if (K == 1) return {1.0};
  std::vector<double> to_unit(K);  // unit_k = x_k · to_unit[k]
  for (size_t k = 0; k < K; ++k) to_unit[k] = 1 / (g.norm(k) + eps);
  std::vector<double> mean(K);  // Σ w_k·unit_k
  for (size_t k = 0; k < K; ++k) mean[k] = w[k] * to_unit[k];
  const double mean_norm = std::sqrt(std::max(g.inner(mean, mean), 0.0));
  if (mean_norm < eps) {
    bool all_zero = true;  // nothing moved: the base (mergekit refuses this case; there is nothing to interpolate)
    for (size_t k = 0; k < K; ++k) all_zero = all_zero && g.norm(k) == 0;
    if (all_zero) return std::vector<double>(K, 0.0);
    if (K == 2) return {w[0], w[1]};  // antipodal pair: the straight weighted sum
    fail("", tensor,
         "multislerp: the weighted directions of the models cancel out (antipodal models with balancing weights); "
         "use other weights");
  }
  std::vector<double> axis(K);  // the unit mean direction
  for (size_t k = 0; k < K; ++k) axis[k] = mean[k] / mean_norm;
  // Tangent part of the weighted directions: Σ w_k (unit_k − ⟨unit_k, axis⟩·axis).
  double along = 0;
  for (size_t k = 0; k < K; ++k) {
    std::vector<double> unit(K, 0.0);
    unit[k] = to_unit[k];
    along += w[k] * g.inner(unit, axis);
  }
  std::vector<double> tangent(K);
  for (size_t k = 0; k < K; ++k) tangent[k] = mean[k] - along * axis[k];
  const double tangent_norm = std::sqrt(std::max(g.inner(tangent, tangent), 0.0)) + eps;
  double length = 0;  // Σ w_k ‖x_k‖
  for (size_t k = 0; k < K; ++k) length += w[k] * g.norm(k);
  std::vector<double> c(K);
  for (size_t k = 0; k < K; ++k)
    c[k] = (axis[k] * deterministic_cos(tangent_norm) + tangent[k] * (deterministic_sin(tangent_norm) / tangent_norm)) *
           length;
  return c;
}

class MultiSlerp : public DescribedMethod {
 public:
  MultiSlerp() : DescribedMethod(describe()) {}

  std::unique_ptr<TensorMerge> bind(const OutputTensor& out) const override {
    std::vector<double> w;
    for (size_t k = 0; k < out.inputs.size(); ++k) w.push_back(per_model(out, k, "weight"));
    if (global(out, "normalize_weights") != 0) {
      const double sum = std::accumulate(w.begin(), w.end(), 0.0);
      if (sum == 0) fail("", out.info.name, "multislerp: the weights sum to 0, so they cannot be normalized");
      for (double& x : w) x /= sum;
    }
    const double eps = global(out, "eps");
    const std::string tensor = out.info.name;
    return std::make_unique<CombinationMerge>(
        out, out.base ? Vectors::TaskVectors : Vectors::Models, Grouping::whole(),
        [w, eps, tensor](const GramView& g) { return multislerp_coefficients(g, w, eps, tensor); });
  }

 private:
  static Description describe() {
    Description d;
    d.name = "multislerp";
    d.title = "Multi-SLERP";
    d.url = "https://goddard.blog/posts/multislerp-wow-what-a-cool-idea";
    d.summary =
        "SLERP for any number of models: averages their directions on the sphere with their weights (around the "
        "weighted mean direction) and gives the result their weighted mean length; task vectors when a base is given.";
    d.formula =
        "uₖ = xₖ/‖xₖ‖, a = Σ wₖuₖ/‖Σ wₖuₖ‖;  v = Σ wₖ(uₖ − ⟨uₖ,a⟩a);  result = [b +] Σ wₖ‖xₖ‖ · (a·cos‖v‖ + "
        "v·sin‖v‖/‖v‖)";
    ParamSpec eps = ParamSpec::number("eps", ParamSpec::Scope::Global, 1e-8);
    eps.min = 0.0;
    eps.min_exclusive = true;
    d.params = {ParamSpec::number("weight", ParamSpec::Scope::PerModel, std::nullopt, true),
                ParamSpec::boolean("normalize_weights", true), eps};
    d.models = {1, std::nullopt};
    d.takes_base = true;
    d.needs = {Fact::DotProducts};
    return d;
  }
};

}  // namespace

const MergeMethod& multislerp_method() {
  static const MultiSlerp method;
  return method;
}

}  // namespace wasmerge
