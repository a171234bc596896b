// f64 references of SPEC §6's selection methods, from the SPEC's words alone (no engine
// code): breadcrumbs' outliers and DELLA's magprune inside §2's family, sce, arcee_fusion.
// Where §6 says arithmetic is f32 (element arithmetic; scalars rounded to f32 before they
// scale a tensor), the reference rounds the same way, so that a selection by value ranks
// the very values the engine ranks.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "reference.hpp"

namespace test {
namespace {

// Indices in ascending |δ| order, equal values ordered by flat index ("sorted by |δ|").
std::vector<size_t> ascending_magnitude(const std::vector<double>& delta, size_t first, size_t n) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), first);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return std::fabs(delta[a]) < std::fabs(delta[b]); });
  return order;
}

// outliers: keep ranks [n_bot, N − n_top) of the ascending |δ| order.
std::vector<bool> outliers_keep(const RefTensorMerge& m, size_t k, const std::vector<double>& delta) {
  const double d = m.densities[k], gamma = m.model_param(k, "gamma", 0.01);
  const auto N = static_cast<int64_t>(delta.size());
  if (d >= 1) return std::vector<bool>(delta.size(), true);
  int64_t n_top = static_cast<int64_t>(std::floor(gamma * static_cast<double>(N)));
  const auto n_keep = static_cast<int64_t>(std::floor(d * static_cast<double>(N)));
  int64_t n_bot = std::max<int64_t>(0, N - n_keep - n_top);
  if (N - n_keep - n_top < 0) n_top = N - n_keep - n_bot;
  const std::vector<size_t> order = ascending_magnitude(delta, 0, delta.size());
  std::vector<bool> keep(delta.size(), false);
  for (int64_t r = n_bot; r < N - n_top; ++r) keep[order[static_cast<size_t>(r)]] = true;
  return keep;
}

// magprune: per row of c columns, p = (d − ε) + 2ε·r/(c − 1) from the rank r, DARE's draw at p.
std::vector<bool> magprune_keep(const RefTensorMerge& m, size_t k, const std::vector<double>& delta) {
  const double d = m.densities[k], eps = m.model_param(k, "epsilon", 0.15);
  if (d >= 1) return std::vector<bool>(delta.size(), true);
  if (d <= 0) return std::vector<bool>(delta.size(), false);
  const size_t c = m.shape.size() < 2 ? delta.size() : static_cast<size_t>(m.shape.back());
  std::vector<bool> keep(delta.size());
  for (size_t row = 0; row < delta.size(); row += c) {
    const std::vector<size_t> order = ascending_magnitude(delta, row, c);
    for (size_t r = 0; r < c; ++r) {
      const double p = c == 1 ? d : (d - eps) + 2 * eps * static_cast<double>(r) / static_cast<double>(c - 1);
      keep[order[r]] = reference_dare_keep(m.seed, m.name, k, order[r], p);
    }
  }
  return keep;
}

}  // namespace

std::vector<double> reference_breadcrumbs(const RefTensorMerge& m) {
  return reference_family(m, outliers_keep, m.method == "breadcrumbs_ties");
}

std::vector<double> reference_della(const RefTensorMerge& m) {
  return reference_family(m, magprune_keep, m.method == "della");
}

// sce: variance top-k (population variance across models, element arithmetic in f32),
// sign election on the unweighted masked task vectors, weights mean(δ_k²) of the masked
// task vectors (mergekit masks first), normalized.
std::vector<double> reference_sce(const RefTensorMerge& m) {
  const size_t n = m.base.size(), K = m.models.size();
  std::vector<std::vector<double>> delta(K, std::vector<double>(n));
  for (size_t k = 0; k < K; ++k)
    for (size_t i = 0; i < n; ++i) delta[k][i] = m.models[k][i] - m.base[i];
  const double topk = m.param("select_topk", 1.0);
  if (topk < 1) {
    std::vector<float> var(n);
    size_t nonzero = 0;
    for (size_t i = 0; i < n; ++i) {
      float sum = 0.0f;
      for (size_t k = 0; k < K; ++k) sum = sum + static_cast<float>(delta[k][i]);
      const float mean = sum / static_cast<float>(K);
      float squares = 0.0f;
      for (size_t k = 0; k < K; ++k) {
        const float d = static_cast<float>(delta[k][i]) - mean;
        squares = squares + d * d;
      }
      var[i] = squares / static_cast<float>(K);
      nonzero += var[i] != 0.0f;
    }
    const auto keep = static_cast<size_t>(std::floor(static_cast<double>(nonzero) * topk));
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return var[a] > var[b]; });
    std::vector<bool> selected(n, false);
    for (size_t r = 0; r < keep; ++r) selected[order[r]] = true;
    for (auto& d : delta)
      for (size_t i = 0; i < n; ++i)
        if (!selected[i]) d[i] = 0;
  }
  std::vector<double> w(K);
  double total = 0;
  for (size_t k = 0; k < K; ++k) {
    double squares = 0;
    for (double x : delta[k]) squares += x * x;
    w[k] = squares / static_cast<double>(n);
    total += w[k];
  }
  for (double& x : w) x = total < 1e-6 ? 1.0 / static_cast<double>(K) : x / total;
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i) {
    double sum = 0;
    for (size_t k = 0; k < K; ++k) sum += delta[k][i];
    const bool positive = sum >= 0;
    double mixed = 0, divisor = 0;
    for (size_t k = 0; k < K; ++k)
      if (delta[k][i] != 0 && (delta[k][i] > 0) == positive) {
        mixed += static_cast<float>(w[k]) * delta[k][i];
        divisor += static_cast<float>(w[k]);
      }
    out[i] = m.base[i] + mixed / std::max(divisor, 1e-6);
  }
  return out;
}

// arcee_fusion: per row, p = softmax(m) + 1e-8, q = softmax(b) + 1e-8, kl = Σ p·log(p/q)
// (f64, rounded to f32 before it scales |m − b|); imp in f32; quantiles over all imp,
// Q(x) = sorted[floor(x·(n − 1))]; result = m where imp ≥ Q(.5) + 1.5·(Q(.75) − Q(.25)).
std::vector<double> reference_arcee_fusion(const RefTensorMerge& m) {
  const std::vector<double>& b = m.base;
  const std::vector<double>& x = m.models.at(0);
  const size_t n = b.size();
  const size_t c = m.shape.size() < 1 ? n : static_cast<size_t>(m.shape.back());
  std::vector<float> imp(n);
  for (size_t row = 0; row < n; row += c) {
    auto softmax = [&](const std::vector<double>& v) {
      const double top = *std::max_element(v.begin() + row, v.begin() + row + c);
      std::vector<double> e(c);
      double sum = 0;
      for (size_t j = 0; j < c; ++j) sum += e[j] = std::exp(v[row + j] - top);
      for (double& y : e) y = y / sum + 1e-8;
      return e;
    };
    const std::vector<double> p = softmax(x), q = softmax(b);
    double kl = 0;
    for (size_t j = 0; j < c; ++j) kl += p[j] * std::log(p[j] / q[j]);
    const float kl32 = static_cast<float>(std::max(kl, 0.0));
    for (size_t j = 0; j < c; ++j) imp[row + j] = static_cast<float>(std::fabs(x[row + j] - b[row + j])) * kl32;
  }
  std::vector<float> sorted = imp;
  std::sort(sorted.begin(), sorted.end());
  auto quantile = [&](double at) { return static_cast<double>(sorted[static_cast<size_t>(std::floor(at * (n - 1)))]); };
  const double threshold = quantile(0.5) + 1.5 * (quantile(0.75) - quantile(0.25));
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = imp[i] >= threshold ? x[i] : b[i];
  return out;
}

}  // namespace test
