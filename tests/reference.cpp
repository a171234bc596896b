#include "reference.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace test {
namespace {

uint64_t mix(uint64_t x) {
  uint64_t z = x + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t fnv(const std::string& s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

}  // namespace

bool reference_dare_keep(uint64_t seed, const std::string& name, uint64_t model, uint64_t index, double density) {
  const uint64_t s = mix(seed ^ mix(fnv(name) ^ mix(model)));
  return static_cast<double>(mix(s + index) >> 40) < std::floor(density * 16777216.0 + 0.5);
}

// SPEC §2's family: sparsify (keep), rescale, weight, then sum or elect, then b + λ·mixed.
std::vector<double> reference_family(const RefTensorMerge& m, const KeepRule& keep_rule, bool consensus) {
  const size_t n = m.models[0].size(), K = m.models.size();
  const bool has_base = m.method != "linear";

  std::vector<std::vector<double>> omega(K, std::vector<double>(n));
  for (size_t k = 0; k < K; ++k) {
    std::vector<double> delta(n);
    for (size_t i = 0; i < n; ++i) delta[i] = m.models[k][i] - (has_base ? m.base[i] : 0.0);
    const std::vector<bool> keep = keep_rule ? keep_rule(m, k, delta) : std::vector<bool>(n, true);
    double l1 = 0, l1_kept = 0;
    for (size_t i = 0; i < n; ++i) {
      l1 += std::fabs(delta[i]);
      if (keep[i]) l1_kept += std::fabs(delta[i]);
    }
    double factor = 1;
    if (m.rescale && keep_rule) {
      if (m.inverse_density) factor = 1 / m.densities[k];
      else if (l1 >= 1e-7 && l1_kept >= 1e-7) factor = l1 / l1_kept;
    }
    for (size_t i = 0; i < n; ++i) omega[k][i] = m.weights[k] * (keep[i] ? delta[i] * factor : 0.0);
  }

  std::vector<double> out(n);
  double weight_sum = 0;
  for (double w : m.weights) weight_sum += w;
  for (size_t i = 0; i < n; ++i) {
    double mixed = 0, divisor = 0;
    if (consensus) {
      double sum = 0;
      for (size_t k = 0; k < K; ++k) sum += omega[k][i];
      const double sign = sum >= 0 ? 1 : -1;
      for (size_t k = 0; k < K; ++k)
        if (omega[k][i] != 0 && (omega[k][i] > 0) == (sign > 0)) {
          mixed += omega[k][i];
          divisor += m.weights[k];
        }
      if (divisor == 0) divisor = 1;
    } else {
      for (size_t k = 0; k < K; ++k) mixed += omega[k][i];
      divisor = std::fabs(weight_sum) < 1e-8 ? 1 : weight_sum;
    }
    if (m.normalize) mixed /= divisor;
    out[i] = has_base ? m.base[i] + m.lambda * mixed : mixed;
  }
  return out;
}

namespace {

// TIES' trim: the floor(d·n) largest |δ|, ties to the lower index.
std::vector<bool> ties_keep(const RefTensorMerge& m, size_t k, const std::vector<double>& delta) {
  const size_t n = delta.size();
  if (m.densities[k] >= 1) return std::vector<bool>(n, true);
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return std::fabs(delta[a]) > std::fabs(delta[b]); });
  const size_t kept = static_cast<size_t>(std::floor(m.densities[k] * n));
  std::vector<bool> keep(n, false);
  for (size_t i = 0; i < kept; ++i) keep[order[i]] = true;
  return keep;
}

std::vector<bool> dare_keep(const RefTensorMerge& m, size_t k, const std::vector<double>& delta) {
  std::vector<bool> keep(delta.size());
  for (size_t i = 0; i < delta.size(); ++i) keep[i] = reference_dare_keep(m.seed, m.name, k, i, m.densities[k]);
  return keep;
}

std::vector<double> task_arithmetic_family(const RefTensorMerge& m) {
  const bool ties = m.method == "ties", dare = m.method.rfind("dare", 0) == 0;
  const KeepRule keep = ties ? KeepRule(ties_keep) : dare ? KeepRule(dare_keep) : KeepRule();
  return reference_family(m, keep, ties || m.method == "dare_ties");
}

// SPEC §5: the one source, times its scale (the engine rounds to the output dtype).
std::vector<double> passthrough(const RefTensorMerge& m) {
  std::vector<double> out = m.models.at(0);
  const double scale = m.scales.empty() ? 1.0 : m.scales[0];
  for (double& v : out) v *= scale;
  return out;
}

}  // namespace

const std::map<std::string, Reference>& references() {
  static const std::map<std::string, Reference> table = [] {
    std::map<std::string, Reference> all = {
        {"linear", task_arithmetic_family},    {"task_arithmetic", task_arithmetic_family},
        {"ties", task_arithmetic_family},      {"dare_linear", task_arithmetic_family},
        {"dare_ties", task_arithmetic_family}, {"breadcrumbs", reference_breadcrumbs},
        {"breadcrumbs_ties", reference_breadcrumbs}, {"della", reference_della},
        {"della_linear", reference_della},     {"sce", reference_sce},
        {"arcee_fusion", reference_arcee_fusion}, {"passthrough", passthrough}};
    for (const auto* more : {&geometric_references()}) all.insert(more->begin(), more->end());
    return all;
  }();
  return table;
}

std::vector<double> reference_merge(const RefTensorMerge& m) { return references().at(m.method)(m); }

}  // namespace test
