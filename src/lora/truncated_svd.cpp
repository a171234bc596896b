// The exact and randomized truncated SVDs of δ (see truncated_svd.hpp).
#include "lora/truncated_svd.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "lora/dense_svd.hpp"
#include "math/counter_random.hpp"

namespace wasmerge {
namespace {

constexpr size_t kRowChunk = 16;      // rows per task in a pass producing one value per row
constexpr size_t kColumnChunk = 512;  // columns per task in a pass summing over rows

// Vectors are stored one after the other: vector c of length len at data[c * len].
using Vectors = std::vector<double>;

// Y_c[i] = δ_i · M_c for every row i (M: l vectors of cols()), one pass over δ.
Vectors times_vectors(DeltaMatrix& delta, const Vectors& mat, size_t l, ThreadPool& pool) {
  const size_t m = delta.rows(), n = delta.cols();
  Vectors y(l * m);
  delta.for_each_block([&](size_t first, size_t count, const float* block) {
    pool.parallel_for((count + kRowChunk - 1) / kRowChunk, [&](size_t chunk) {
      const size_t i1 = std::min(count, (chunk + 1) * kRowChunk);
      for (size_t i = chunk * kRowChunk; i < i1; ++i)
        for (size_t c = 0; c < l; ++c) y[c * m + first + i] = dot4(block + i * n, mat.data() + c * n, n);
    });
  });
  return y;
}

// Z_c = δᵀ Q_c (Q: l vectors of rows()), one pass over δ; each element sums the rows in order.
Vectors transpose_times_vectors(DeltaMatrix& delta, const Vectors& q, size_t l, ThreadPool& pool) {
  const size_t m = delta.rows(), n = delta.cols();
  Vectors z(l * n, 0.0);
  delta.for_each_block([&](size_t first, size_t count, const float* block) {
    pool.parallel_for((n + kColumnChunk - 1) / kColumnChunk, [&](size_t chunk) {
      const size_t j0 = chunk * kColumnChunk, j1 = std::min(n, j0 + kColumnChunk);
      for (size_t i = 0; i < count; ++i) {
        const float* row = block + i * n;
        for (size_t c = 0; c < l; ++c) {
          const double qi = q[c * m + first + i];
          double* zc = z.data() + c * n;
          for (size_t j = j0; j < j1; ++j) zc[j] += static_cast<double>(row[j]) * qi;
        }
      }
    });
  });
  return z;
}

// Orthonormalizes l vectors of length len in place: classical Gram–Schmidt run twice per
// vector (as stable as modified Gram–Schmidt with re-orthogonalization, and each step
// parallel). A vector left with nothing of its own (below 1e-12 of the largest input
// norm: δ's rank is below l) becomes zero.
void orthonormalize(Vectors& v, size_t l, size_t len, ThreadPool& pool) {
  double scale = 0;
  for (size_t c = 0; c < l; ++c) scale = std::max(scale, std::sqrt(dot4(&v[c * len], &v[c * len], len)));
  std::vector<double> coef(l);
  const size_t chunks = (len + kColumnChunk - 1) / kColumnChunk;
  for (size_t c = 0; c < l; ++c) {
    double* vc = &v[c * len];
    for (int pass = 0; pass < 2 && c > 0; ++pass) {
      pool.parallel_for(c, [&](size_t b) { coef[b] = dot4(&v[b * len], vc, len); });
      pool.parallel_for(chunks, [&](size_t chunk) {
        const size_t j0 = chunk * kColumnChunk, j1 = std::min(len, j0 + kColumnChunk);
        for (size_t b = 0; b < c; ++b) {
          const double* vb = &v[b * len];
          for (size_t j = j0; j < j1; ++j) vc[j] -= coef[b] * vb[j];
        }
      });
    }
    const double norm = std::sqrt(dot4(vc, vc, len));
    if (!(norm > 1e-12 * scale)) {
      std::fill(vc, vc + len, 0.0);
      continue;
    }
    for (size_t j = 0; j < len; ++j) vc[j] /= norm;
  }
}

LowRank exact_svd(MemoryDelta& delta, size_t k, ThreadPool& pool) {
  const size_t m = delta.rows(), n = delta.cols();
  LowRank out;
  delta.for_each_block([](size_t, size_t, const float*) {});  // the pass's cancel check
  if (delta.known_zero()) return out;
  const float* x = delta.values().data();
  if (m <= n) {
    top_triples_of_rows(x, m, n, k, pool, out.u, out.sigma, out.v);
  } else {  // the Gram matrix of the shorter side: work on δᵀ
    std::vector<float> xt(m * n);
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < n; ++j) xt[j * m + i] = x[i * n + j];
    top_triples_of_rows(xt.data(), n, m, k, pool, out.v, out.sigma, out.u);
  }
  fix_signs(out.u, m, out.v, n, out.rank());
  return out;
}

LowRank randomized_svd(DeltaMatrix& delta, const SvdOptions& options, size_t k, ThreadPool& pool) {
  const size_t m = delta.rows(), n = delta.cols();
  const size_t l = std::min(k + options.oversampling, std::min(m, n));
  const uint64_t stream = named_stream(options.seed, options.stream_name);
  Vectors omega(l * n);
  for (size_t i = 0; i < l * n; ++i) omega[i] = counter_normal(stream, i);
  Vectors q = times_vectors(delta, omega, l, pool);
  LowRank out;
  if (delta.known_zero()) return out;
  Vectors().swap(omega);
  orthonormalize(q, l, m, pool);
  for (unsigned it = 0; it < options.power_iterations; ++it) {
    Vectors z = transpose_times_vectors(delta, q, l, pool);
    orthonormalize(z, l, n, pool);
    q = times_vectors(delta, z, l, pool);
    orthonormalize(q, l, m, pool);
  }
  const Vectors x = transpose_times_vectors(delta, q, l, pool);  // Qᵀδ, l rows of n
  std::vector<double> w;
  top_triples_of_rows(x.data(), l, n, k, pool, w, out.sigma, out.v);
  k = out.rank();
  // u_i = Q w_i, each element a sum over Q's vectors in order.
  out.u.assign(k * m, 0.0);
  pool.parallel_for((m + kColumnChunk - 1) / kColumnChunk, [&](size_t chunk) {
    const size_t a0 = chunk * kColumnChunk, a1 = std::min(m, a0 + kColumnChunk);
    for (size_t i = 0; i < k; ++i)
      for (size_t c = 0; c < l; ++c) {
        const double wc = w[i * l + c];
        for (size_t a = a0; a < a1; ++a) out.u[i * m + a] += wc * q[c * m + a];
      }
  });
  fix_signs(out.u, m, out.v, n, k);
  return out;
}

}  // namespace

SvdMethod choose_method(size_t rows, size_t cols, const SvdOptions& options) {
  if (options.method != SvdMethod::Auto) return options.method;
  const size_t p = std::min(rows, cols), l = std::min(options.rank + options.oversampling, p);
  return p <= 4 * l ? SvdMethod::Exact : SvdMethod::Randomized;
}

uint64_t svd_working_bytes(size_t rows, size_t cols, const SvdOptions& options, SvdMethod method) {
  const uint64_t m = rows, n = cols, p = std::min(m, n), k = std::min<uint64_t>(options.rank, p);
  const uint64_t triples = 8 * k * (m + n);
  if (method == SvdMethod::Exact) return 8 * 3 * p * p + triples + (m > n ? 4 * m * n : 0);
  const uint64_t l = std::min<uint64_t>(k + options.oversampling, p);
  return 8 * l * (m + 2 * n) + 8 * 3 * l * l + triples;
}

LowRank truncated_svd(DeltaMatrix& delta, const SvdOptions& options, ThreadPool& pool) {
  const size_t k = std::min(options.rank, std::min(delta.rows(), delta.cols()));
  if (k == 0) return {};
  if (choose_method(delta.rows(), delta.cols(), options) == SvdMethod::Exact) {
    auto* memory = dynamic_cast<MemoryDelta*>(&delta);
    if (!memory) throw std::logic_error("the exact SVD needs δ in memory");
    return exact_svd(*memory, k, pool);
  }
  return randomized_svd(delta, options, k, pool);
}

}  // namespace wasmerge
