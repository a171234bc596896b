// The exact SVD step: Gram matrix, cyclic Jacobi, projection (see dense_svd.hpp).
#include "lora/dense_svd.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "wasmerge/kernels.hpp"

namespace wasmerge {
namespace {

constexpr size_t kColumnChunk = 512;  // columns per task where a pass sums over rows

double dot_rows(const float* x, const float* y, size_t n) { return dot_sum(x, y, n); }
double dot_rows(const double* x, const double* y, size_t n) { return dot4(x, y, n); }

// One Jacobi rotation zeroing g[a][b] (a < b), applied to g and to the eigenvector columns.
void rotate(std::vector<double>& g, std::vector<double>& v, size_t p, size_t a, size_t b) {
  const double gab = g[a * p + b];
  const double theta = (g[b * p + b] - g[a * p + a]) / (2.0 * gab);
  const double abs_theta = std::fabs(theta);
  // t = tan of the rotation angle, the smaller root; for huge θ, 1/(2θ) (θ² would overflow).
  double t = abs_theta > 1e150 ? 1.0 / (2.0 * abs_theta) : 1.0 / (abs_theta + std::sqrt(theta * theta + 1.0));
  if (theta < 0) t = -t;
  const double c = 1.0 / std::sqrt(t * t + 1.0), s = t * c;
  for (size_t r = 0; r < p; ++r) {
    if (r == a || r == b) continue;
    const double gra = g[r * p + a], grb = g[r * p + b];
    const double na = c * gra - s * grb, nb = s * gra + c * grb;
    g[r * p + a] = na;
    g[a * p + r] = na;
    g[r * p + b] = nb;
    g[b * p + r] = nb;
  }
  g[a * p + a] -= t * gab;
  g[b * p + b] += t * gab;
  g[a * p + b] = 0.0;
  g[b * p + a] = 0.0;
  for (size_t r = 0; r < p; ++r) {
    const double vra = v[r * p + a], vrb = v[r * p + b];
    v[r * p + a] = c * vra - s * vrb;
    v[r * p + b] = s * vra + c * vrb;
  }
}

}  // namespace

double dot4(const double* x, const double* y, size_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += x[i] * y[i];
    s1 += x[i + 1] * y[i + 1];
    s2 += x[i + 2] * y[i + 2];
    s3 += x[i + 3] * y[i + 3];
  }
  if (i < n) s0 += x[i] * y[i];
  if (i + 1 < n) s1 += x[i + 1] * y[i + 1];
  if (i + 2 < n) s2 += x[i + 2] * y[i + 2];
  return (s0 + s2) + (s1 + s3);
}

double dot4(const float* x, const double* y, size_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += static_cast<double>(x[i]) * y[i];
    s1 += static_cast<double>(x[i + 1]) * y[i + 1];
    s2 += static_cast<double>(x[i + 2]) * y[i + 2];
    s3 += static_cast<double>(x[i + 3]) * y[i + 3];
  }
  if (i < n) s0 += static_cast<double>(x[i]) * y[i];
  if (i + 1 < n) s1 += static_cast<double>(x[i + 1]) * y[i + 1];
  if (i + 2 < n) s2 += static_cast<double>(x[i + 2]) * y[i + 2];
  return (s0 + s2) + (s1 + s3);
}

void symmetric_eigen(std::vector<double>& g, size_t p, std::vector<double>& values, std::vector<double>& vectors) {
  std::vector<double> v(p * p, 0.0);
  for (size_t a = 0; a < p; ++a) v[a * p + a] = 1.0;
  double total = 0;
  for (size_t i = 0; i < p * p; ++i) total += g[i] * g[i];
  for (int sweep = 0; sweep < 60; ++sweep) {
    double off = 0;
    for (size_t a = 0; a < p; ++a)
      for (size_t b = a + 1; b < p; ++b) off += g[a * p + b] * g[a * p + b];
    if (off <= 1e-32 * total) break;  // off-diagonal mass below f64's resolution of the whole
    for (size_t a = 0; a < p; ++a)
      for (size_t b = a + 1; b < p; ++b)
        if (g[a * p + b] != 0.0) rotate(g, v, p, a, b);
  }
  std::vector<size_t> order(p);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return g[x * p + x] > g[y * p + y]; });
  values.assign(p, 0.0);
  vectors.assign(p * p, 0.0);
  for (size_t i = 0; i < p; ++i) {
    values[i] = g[order[i] * p + order[i]];
    for (size_t a = 0; a < p; ++a) vectors[i * p + a] = v[a * p + order[i]];
  }
}

template <typename T>
std::vector<double> gram_of_rows(const T* x, size_t p, size_t q, ThreadPool& pool) {
  std::vector<double> g(p * p);
  pool.parallel_for(p, [&](size_t a) {
    for (size_t b = a; b < p; ++b) {
      const double d = dot_rows(x + a * q, x + b * q, q);
      g[a * p + b] = d;
      g[b * p + a] = d;
    }
  });
  return g;
}

template <typename T>
void top_triples_of_rows(const T* x, size_t p, size_t q, size_t k, ThreadPool& pool, std::vector<double>& w,
                         std::vector<double>& sigma, std::vector<double>& r) {
  std::vector<double> g = gram_of_rows(x, p, q, pool), values, vectors;
  symmetric_eigen(g, p, values, vectors);
  k = std::min(k, p);
  w.assign(vectors.begin(), vectors.begin() + k * p);
  // r_i = w_iᵀX, each column a sum over the rows in order.
  r.assign(k * q, 0.0);
  pool.parallel_for((q + kColumnChunk - 1) / kColumnChunk, [&](size_t chunk) {
    const size_t j0 = chunk * kColumnChunk, j1 = std::min(q, j0 + kColumnChunk);
    for (size_t a = 0; a < p; ++a) {
      const T* row = x + a * q;
      for (size_t i = 0; i < k; ++i) {
        const double wa = w[i * p + a];
        double* ri = r.data() + i * q;
        for (size_t j = j0; j < j1; ++j) ri[j] += wa * static_cast<double>(row[j]);
      }
    }
  });
  sigma.assign(k, 0.0);
  for (size_t i = 0; i < k; ++i) {
    double* ri = r.data() + i * q;
    sigma[i] = std::sqrt(dot4(ri, ri, q));
    if (sigma[i] > 0)
      for (size_t j = 0; j < q; ++j) ri[j] /= sigma[i];
  }
}

template std::vector<double> gram_of_rows<float>(const float*, size_t, size_t, ThreadPool&);
template std::vector<double> gram_of_rows<double>(const double*, size_t, size_t, ThreadPool&);
template void top_triples_of_rows<float>(const float*, size_t, size_t, size_t, ThreadPool&, std::vector<double>&,
                                         std::vector<double>&, std::vector<double>&);
template void top_triples_of_rows<double>(const double*, size_t, size_t, size_t, ThreadPool&, std::vector<double>&,
                                          std::vector<double>&, std::vector<double>&);

void fix_signs(std::vector<double>& u, size_t m, std::vector<double>& v, size_t n, size_t k) {
  for (size_t i = 0; i < k; ++i) {
    double* ui = u.data() + i * m;
    size_t top = 0;
    for (size_t a = 1; a < m; ++a)
      if (std::fabs(ui[a]) > std::fabs(ui[top])) top = a;
    if (m == 0 || ui[top] >= 0) continue;
    for (size_t a = 0; a < m; ++a) ui[a] = -ui[a];
    double* vi = v.data() + i * n;
    for (size_t j = 0; j < n; ++j) vi[j] = -vi[j];
  }
}

}  // namespace wasmerge
