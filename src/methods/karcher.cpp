// karcher: mergekit's Riemannian (Karcher) mean of the inputs' directions on the unit
// sphere, scaled by their mean length (SPEC §6); the base, when given, is one more input.
// The iterate u is always a combination of the inputs (it starts as their mean direction
// and each step adds a combination of them), so the iteration runs on the coefficients
// of u, with every dot product it needs taken from the Gram matrix: one pass over the
// tensor, whatever max_iter is.
#include <cmath>

#include "math/deterministic_math.hpp"
#include "methods/combination.hpp"
#include "methods/described_method.hpp"
#include "wasmerge/plan.hpp"

namespace wasmerge {
namespace {

std::vector<double> karcher_coefficients(const GramView& g, int max_iter, double tol) {
  const size_t N = g.size();
  if (N == 1) return {1.0};
  const double alpha = 1.0 / static_cast<double>(N);
  std::vector<size_t> valid;  // inputs of non-negligible length
  for (size_t i = 0; i < N; ++i)
    if (g.norm(i) > tol) valid.push_back(i);
  std::vector<double> u(N, 0.0);
  if (valid.empty()) return u;
  const double a = 1.0 / static_cast<double>(valid.size());  // the valid inputs' weights, normalized
  auto unit = [&](size_t i) {                                // unit_i = x_i / ‖x_i‖
    std::vector<double> e(N, 0.0);
    e[i] = 1 / g.norm(i);
    return e;
  };
  for (size_t i : valid) u[i] = a / g.norm(i);  // the weighted mean direction ...
  const double u_norm = std::sqrt(std::max(g.inner(u, u), 0.0));
  if (u_norm < tol)
    u = unit(valid[0]);
  else
    for (double& c : u) c /= u_norm;  // ... normalized
  for (int iter = 0; iter < max_iter; ++iter) {
    std::vector<double> T(N, 0.0);  // the mean of the log maps at u
    for (size_t i : valid) {
      const double dot = std::fmax(-1.0, std::fmin(1.0, g.inner(u, unit(i))));
      const double theta = deterministic_acos(dot);
      if (theta < tol) continue;
      const double f = a * theta / deterministic_sin(theta);
      T[i] += f / g.norm(i);
      for (size_t j = 0; j < N; ++j) T[j] -= f * dot * u[j];
    }
    const double T_norm = std::sqrt(std::max(g.inner(T, T), 0.0));
    if (T_norm < tol) break;
    for (size_t j = 0; j < N; ++j)
      u[j] = deterministic_cos(T_norm) * u[j] + deterministic_sin(T_norm) * (T[j] / T_norm);
    const double norm = std::sqrt(std::max(g.inner(u, u), 0.0));
    if (norm > tol)
      for (double& c : u) c /= norm;
  }
  double length = 0;  // Σ α_i ‖x_i‖ over every input, zero ones included
  for (size_t i = 0; i < N; ++i) length += alpha * g.norm(i);
  for (double& c : u) c *= length;
  return u;
}

class Karcher : public DescribedMethod {
 public:
  Karcher() : DescribedMethod(describe()) {}

  std::unique_ptr<TensorMerge> bind(const OutputTensor& out) const override {
    const int max_iter = static_cast<int>(global(out, "max_iter"));
    const double tol = global(out, "tol");
    return std::make_unique<CombinationMerge>(
        out, out.base ? Vectors::BaseAndModels : Vectors::Models, Grouping::whole(),
        [max_iter, tol](const GramView& g) { return karcher_coefficients(g, max_iter, tol); });
  }

 private:
  static Description describe() {
    Description d;
    d.name = "karcher";
    d.title = "Karcher Mean";
    d.url = "https://arxiv.org/abs/2603.04972";
    d.summary =
        "The Riemannian (Karcher) mean of the models' directions on the sphere, found by a few steps of gradient "
        "descent, times their mean length; equal weights, and the base model (if named) is just one more input.";
    d.formula = "u = argmin Σ angle(u, xₖ/‖xₖ‖)² on the unit sphere (max_iter steps);  result = (Σ‖xₖ‖/N) · u";
    ParamSpec max_iter = ParamSpec::number("max_iter", ParamSpec::Scope::Global, 10.0);
    max_iter.min = 0.0;
    max_iter.max = 1000.0;  // it converges in a few; a bound keeps a typo from hanging the tab
    ParamSpec tol = ParamSpec::number("tol", ParamSpec::Scope::Global, 1e-5);
    tol.min = 0.0;
    d.params = {max_iter, tol};
    d.models = {1, std::nullopt};
    d.takes_base = true;
    d.needs = {Fact::DotProducts};
    return d;
  }
};

}  // namespace

const MergeMethod& karcher_method() {
  static const Karcher method;
  return method;
}

}  // namespace wasmerge
