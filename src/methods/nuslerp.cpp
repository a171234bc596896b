// nuslerp: slerp between two models at t = w_1/(w_0 + w_1), of their task vectors when a
// base is given (then added back), over the whole tensor, each row, or each column (SPEC §6).
#include <algorithm>
#include <cmath>

#include "math/deterministic_math.hpp"
#include "methods/combination.hpp"
#include "methods/described_method.hpp"
#include "methods/sphere.hpp"
#include "wasmerge/plan.hpp"

namespace wasmerge {
namespace {

class NuSlerp : public DescribedMethod {
 public:
  NuSlerp() : DescribedMethod(describe()) {}

  std::unique_ptr<TensorMerge> bind(const OutputTensor& out) const override {
    const double w0 = per_model(out, 0, "weight"), w1 = per_model(out, 1, "weight");
    const double t = std::fabs(w0 + w1) < 1e-6 ? 0.5 : w1 / (w0 + w1);
    const Grouping grouping = global(out, "nuslerp_flatten") != 0    ? Grouping::whole()
                              : global(out, "nuslerp_row_wise") != 0 ? Grouping::columns_of(out.info.shape)
                                                                     : Grouping::rows_of(out.info.shape);
    return std::make_unique<CombinationMerge>(
        out, out.base ? Vectors::TaskVectors : Vectors::Models, grouping, [t](const GramView& g) {
          const double n0 = std::max(g.norm(0), 1e-7), n1 = std::max(g.norm(1), 1e-7);
          const double theta = deterministic_acos(std::clamp(g.at(0, 1) / (n0 * n1), -1.0, 1.0));
          if (std::fabs(deterministic_sin(theta)) < 1e-8) return lerp_coefficients(t);
          return slerp_coefficients(t, theta);
        });
  }

 private:
  static Description describe() {
    Description d;
    d.name = "nuslerp";
    d.title = "NuSLERP";
    d.url = "https://github.com/arcee-ai/mergekit/blob/main/docs/merge_methods.md#nuslerp";
    d.summary =
        "SLERP between exactly two models with t from their weights; with a base model it interpolates their task "
        "vectors and adds the base back; per row or column instead of the whole tensor if asked.";
    d.formula = "t = w₂/(w₁+w₂);  result = [b +] slerp(t, x₁, x₂),  xₖ = mₖ − b with a base, else mₖ";
    d.params = {ParamSpec::number("weight", ParamSpec::Scope::PerModel, std::nullopt, true),
                ParamSpec::boolean("nuslerp_flatten", true), ParamSpec::boolean("nuslerp_row_wise", false)};
    d.models = {2, 2};
    d.takes_base = true;
    d.needs = {Fact::DotProducts};
    return d;
  }
};

}  // namespace

const MergeMethod& nuslerp_method() {
  static const NuSlerp method;
  return method;
}

}  // namespace wasmerge
