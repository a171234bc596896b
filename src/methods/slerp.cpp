// slerp: the great-circle path from the base (t = 0) to the other model (t = 1), over
// each whole flattened tensor (SPEC §6); a straight line where the two nearly align.
#include <cmath>

#include "math/deterministic_math.hpp"
#include "methods/combination.hpp"
#include "methods/described_method.hpp"
#include "methods/sphere.hpp"

namespace wasmerge {
namespace {

class Slerp : public DescribedMethod {
 public:
  Slerp() : DescribedMethod(describe()) {}

  std::unique_ptr<TensorMerge> bind(const OutputTensor& out) const override {
    const double t = global(out, "t");
    return std::make_unique<CombinationMerge>(out, Vectors::BaseAndModels, Grouping::whole(), [t](const GramView& g) {
      // u_k = v_k / ‖v_k‖, a vector of norm ≤ 1e-8 left as it is.
      const double n0 = g.norm(0) > 1e-8 ? g.norm(0) : 1.0, n1 = g.norm(1) > 1e-8 ? g.norm(1) : 1.0;
      const double c = g.at(0, 1) / (n0 * n1);
      if (std::fabs(c) > 0.9995) return lerp_coefficients(t);
      return slerp_coefficients(t, deterministic_acos(c));
    });
  }

 private:
  static Description describe() {
    Description d;
    d.name = "slerp";
    d.title = "SLERP";
    d.url = "https://en.wikipedia.org/wiki/Slerp";
    d.summary =
        "Walks the great circle from the base model (t = 0) to the other model (t = 1), so the merged weights keep "
        "their length better than a straight average; where the two point the same way it is a plain lerp.";
    d.formula = "θ = angle(b, m);  result = sin((1−t)θ)/sin θ · b + sin(tθ)/sin θ · m   (lerp when |cos θ| > 0.9995)";
    d.params = {ParamSpec::number("t", ParamSpec::Scope::Global, std::nullopt, true)};
    d.models = {1, 1};
    d.needs_base = true;
    d.needs = {Fact::DotProducts};
    return d;
  }
};

}  // namespace

const MergeMethod& slerp_method() {
  static const Slerp method;
  return method;
}

}  // namespace wasmerge
