// The f64 references of SPEC §6's geometric methods (slerp, nuslerp, multislerp, karcher,
// model_stock) and nearswap, written from the SPEC's words on whole vectors, the way the
// formulas read: no Gram matrices and no coefficients, which is how the engine does it.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "reference.hpp"

namespace test {
namespace {

using Vec = std::vector<double>;

double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
double norm(const Vec& a) { return std::sqrt(dot(a, a)); }
Vec scaled(const Vec& a, double s) {
  Vec r(a);
  for (double& x : r) x *= s;
  return r;
}
Vec plus(const Vec& a, const Vec& b) {
  Vec r(a);
  for (size_t i = 0; i < r.size(); ++i) r[i] += b[i];
  return r;
}
Vec minus(const Vec& a, const Vec& b) { return plus(a, scaled(b, -1)); }

// The elements of each vector a row (or column) mode works on: flat index lists.
std::vector<std::vector<size_t>> groups(const RefTensorMerge& m, const std::string& mode) {
  const size_t n = m.models[0].size();
  size_t count = 1;
  std::function<size_t(size_t)> group = [](size_t) { return size_t(0); };
  if (mode == "rows" && m.shape.size() >= 2) {
    count = n / m.shape.back();
    group = [&m](size_t i) { return i / m.shape.back(); };
  } else if (mode == "columns" && m.shape.size() >= 2) {
    count = n / m.shape.front();
    group = [count](size_t i) { return i % count; };
  }
  std::vector<std::vector<size_t>> out(count);
  for (size_t i = 0; i < n; ++i) out[group(i)].push_back(i);
  return out;
}
Vec gather(const Vec& v, const std::vector<size_t>& at) {
  Vec r;
  for (size_t i : at) r.push_back(v[i]);
  return r;
}

// x_k: the task vectors with a base, else the models.
std::vector<Vec> inputs(const RefTensorMerge& m) {
  std::vector<Vec> x;
  for (const Vec& model : m.models) x.push_back(m.base.empty() ? model : minus(model, m.base));
  return x;
}
Vec with_base(const RefTensorMerge& m, const Vec& v) { return m.base.empty() ? v : plus(m.base, v); }

Vec slerp(const RefTensorMerge& m) {
  const double t = m.param("t", 0);
  const Vec& v0 = m.base;
  const Vec& v1 = m.models[0];
  auto unit = [](const Vec& v) { return norm(v) > 1e-8 ? scaled(v, 1 / norm(v)) : v; };
  const double c = dot(unit(v0), unit(v1));
  if (std::fabs(c) > 0.9995) return plus(scaled(v0, 1 - t), scaled(v1, t));
  const double theta = std::acos(c);
  return plus(scaled(v0, std::sin((1 - t) * theta) / std::sin(theta)),
              scaled(v1, std::sin(t * theta) / std::sin(theta)));
}

Vec nuslerp(const RefTensorMerge& m) {
  const double w0 = m.weights[0], w1 = m.weights[1];
  const double t = std::fabs(w0 + w1) < 1e-6 ? 0.5 : w1 / (w0 + w1);
  const std::vector<Vec> x = inputs(m);
  const std::string mode = m.param("nuslerp_flatten", 1)    ? "whole"
                           : m.param("nuslerp_row_wise", 0) ? "columns"
                                                            : "rows";
  Vec result(x[0].size());
  for (const auto& at : groups(m, mode)) {
    const Vec a = gather(x[0], at), b = gather(x[1], at);
    const double c = std::clamp(dot(a, b) / (std::max(norm(a), 1e-7) * std::max(norm(b), 1e-7)), -1.0, 1.0);
    const double theta = std::acos(c);
    for (size_t i = 0; i < at.size(); ++i)
      result[at[i]] = std::fabs(std::sin(theta)) < 1e-8
                          ? (1 - t) * a[i] + t * b[i]
                          : (std::sin((1 - t) * theta) * a[i] + std::sin(t * theta) * b[i]) / std::sin(theta);
  }
  return with_base(m, result);
}

Vec multislerp(const RefTensorMerge& m) {
  const std::vector<Vec> x = inputs(m);
  const size_t K = x.size();
  if (K == 1) return m.models[0];
  Vec w = m.weights;
  if (m.param("normalize_weights", 1)) {
    double sum = 0;
    for (double v : w) sum += v;
    for (double& v : w) v /= sum;
  }
  const double eps = m.param("eps", 1e-8);
  std::vector<Vec> unit;
  Vec mean(x[0].size(), 0.0);
  double length = 0;
  for (size_t k = 0; k < K; ++k) {
    unit.push_back(scaled(x[k], 1 / (norm(x[k]) + eps)));
    mean = plus(mean, scaled(unit[k], w[k]));
    length += w[k] * norm(x[k]);
  }
  if (norm(mean) < eps) {
    if (std::all_of(x.begin(), x.end(), [](const Vec& v) { return norm(v) == 0; }))
      return with_base(m, Vec(x[0].size(), 0.0));
    if (K != 2) throw std::runtime_error("multislerp: cancelling directions");
    return with_base(m, plus(scaled(x[0], w[0]), scaled(x[1], w[1])));
  }
  mean = scaled(mean, 1 / norm(mean));
  Vec tangent(mean.size(), 0.0);
  for (size_t k = 0; k < K; ++k)
    tangent = plus(tangent, scaled(minus(unit[k], scaled(mean, dot(unit[k], mean))), w[k]));
  const double tn = norm(tangent) + eps;
  const Vec on_sphere = plus(scaled(mean, std::cos(tn)), scaled(tangent, std::sin(tn) / tn));
  return with_base(m, scaled(on_sphere, length));
}

// mergekit's iteration, step by step on the vectors themselves.
Vec karcher(const RefTensorMerge& m) {
  std::vector<Vec> x;
  if (!m.base.empty()) x.push_back(m.base);
  for (const Vec& model : m.models) x.push_back(model);
  const size_t N = x.size();
  if (N == 1) return x[0];
  const double tol = m.param("tol", 1e-5);
  const int max_iter = static_cast<int>(m.param("max_iter", 10));
  std::vector<Vec> units;
  double length = 0;
  for (const Vec& v : x) {
    length += norm(v) / N;
    if (norm(v) > tol) units.push_back(scaled(v, 1 / norm(v)));
  }
  if (units.empty()) return Vec(x[0].size(), 0.0);
  const double a = 1.0 / units.size();
  Vec u(x[0].size(), 0.0);
  for (const Vec& unit : units) u = plus(u, scaled(unit, a));
  u = norm(u) < tol ? units[0] : scaled(u, 1 / norm(u));
  for (int iter = 0; iter < max_iter; ++iter) {
    Vec T(u.size(), 0.0);
    for (const Vec& unit : units) {
      const double c = std::clamp(dot(u, unit), -1.0, 1.0), theta = std::acos(c);
      if (theta < tol) continue;
      T = plus(T, scaled(minus(unit, scaled(u, c)), a * theta / std::sin(theta)));
    }
    if (norm(T) < tol) break;
    u = plus(scaled(u, std::cos(norm(T))), scaled(T, std::sin(norm(T)) / norm(T)));
    if (norm(u) > tol) u = scaled(u, 1 / norm(u));
  }
  return scaled(u, length);
}

Vec model_stock(const RefTensorMerge& m) {
  const std::vector<Vec> d = inputs(m);
  const size_t N = d.size();
  Vec result(m.base.size());
  for (const auto& at : groups(m, m.param("filter_wise", 0) ? "rows" : "whole")) {
    double cos = 0;
    size_t pairs = 0;
    for (size_t i = 0; i < N; ++i)
      for (size_t j = i + 1; j < N; ++j, ++pairs) {
        const Vec a = gather(d[i], at), b = gather(d[j], at);
        cos += std::clamp(dot(a, b) / std::max(norm(a) * norm(b), 1e-6), -1.0, 1.0);
      }
    cos /= pairs;
    const double t = N * cos / (1 + (N - 1) * cos);
    for (size_t i : at) {
      double mean = 0;
      for (const Vec& model : m.models) mean += model[i] / N;
      result[i] = t * mean + (1 - t) * m.base[i];
    }
  }
  return result;
}

Vec nearswap(const RefTensorMerge& m) {
  const double t = m.param("t", 0);
  Vec r(m.base.size());
  for (size_t i = 0; i < r.size(); ++i) {
    const double w = std::clamp(t / std::max(std::fabs(m.base[i] - m.models[0][i]), 1e-6), 0.0, 1.0);
    r[i] = w * m.models[0][i] + (1 - w) * m.base[i];
  }
  return r;
}

}  // namespace

const std::map<std::string, Reference>& geometric_references() {
  static const std::map<std::string, Reference> table = {
      {"slerp", slerp},     {"nuslerp", nuslerp},         {"multislerp", multislerp},
      {"karcher", karcher}, {"model_stock", model_stock}, {"nearswap", nearswap}};
  return table;
}

}  // namespace test
