#include "wasmerge/kernels.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

namespace wasmerge {

namespace scalar {
void subtract(float* x, const float* b, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = x[i] - b[i];
}
void scale_into(float* acc, const float* x, float w, size_t n) {
  for (size_t i = 0; i < n; ++i) acc[i] = w * x[i];
}
void add_scaled(float* acc, const float* x, float w, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float product = w * x[i];
    acc[i] = acc[i] + product;
  }
}
void divide(float* x, float divisor, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = x[i] / divisor;
}
void add_lambda_times(float* out, const float* b, const float* mixed, float lambda, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float scaled = lambda * mixed[i];
    out[i] = b[i] + scaled;
  }
}
void near_swap(float* out, const float* b, const float* m, float t, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float distance = std::fabs(b[i] - m[i]);
    const float w = std::min(std::max(t / std::max(distance, 1e-6f), 0.0f), 1.0f);
    const float toward = w * m[i], stay = (1.0f - w) * b[i];
    out[i] = toward + stay;
  }
}
namespace {
// One model's share of the disjoint merge; restrict lets compilers vectorize the selects.
void merge_agreeing(float* __restrict mixed, float* __restrict divisor, const float* __restrict sum,
                    const float* __restrict omega, float weight, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const bool agrees = agrees_with(omega[i], elected_positive(sum[i]));
    mixed[i] = mixed[i] + (agrees ? omega[i] : 0.0f);
    divisor[i] = divisor[i] + (agrees ? weight : 0.0f);
  }
}
}  // namespace

void elect_and_merge(float* mixed, const float* const* omega, const float* weights, size_t models, bool normalize,
                     size_t n, float* scratch) {
  // Model-major loops over element arrays, each element summed in model order.
  float* sum = scratch;
  float* divisor = scratch + n;
  for (size_t i = 0; i < n; ++i) sum[i] = omega[0][i];
  for (size_t k = 1; k < models; ++k)
    for (size_t i = 0; i < n; ++i) sum[i] = sum[i] + omega[k][i];
  for (size_t i = 0; i < n; ++i) mixed[i] = divisor[i] = 0.0f;
  for (size_t k = 0; k < models; ++k) merge_agreeing(mixed, divisor, sum, omega[k], weights[k], n);
  if (normalize)
    for (size_t i = 0; i < n; ++i) mixed[i] = mixed[i] / (divisor[i] == 0.0f ? 1.0f : divisor[i]);
}

double abs_sum(const float* x, size_t n) {
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < n; ++i) s[i % 8] += std::fabs(static_cast<double>(x[i]));
  return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}
double dot_sum(const float* x, const float* y, size_t n) {
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < n; ++i) s[i % 8] += static_cast<double>(x[i]) * static_cast<double>(y[i]);
  return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}
}  // namespace scalar

#ifdef __wasm_simd128__

// Runs `vector_op` on whole groups of 4 and the scalar twin on the tail.
#define WASMERGE_FOR_VECTORS(n, vector_op) \
  size_t i = 0;                            \
  for (; i + 4 <= (n); i += 4) { vector_op; }

void subtract(float* x, const float* b, size_t n) {
  WASMERGE_FOR_VECTORS(n, wasm_v128_store(x + i, wasm_f32x4_sub(wasm_v128_load(x + i), wasm_v128_load(b + i))))
  scalar::subtract(x + i, b + i, n - i);
}
void scale_into(float* acc, const float* x, float w, size_t n) {
  const v128_t wv = wasm_f32x4_splat(w);
  WASMERGE_FOR_VECTORS(n, wasm_v128_store(acc + i, wasm_f32x4_mul(wv, wasm_v128_load(x + i))))
  scalar::scale_into(acc + i, x + i, w, n - i);
}
void add_scaled(float* acc, const float* x, float w, size_t n) {
  const v128_t wv = wasm_f32x4_splat(w);
  WASMERGE_FOR_VECTORS(
      n, wasm_v128_store(acc + i, wasm_f32x4_add(wasm_v128_load(acc + i), wasm_f32x4_mul(wv, wasm_v128_load(x + i)))))
  scalar::add_scaled(acc + i, x + i, w, n - i);
}
void divide(float* x, float divisor, size_t n) {
  const v128_t d = wasm_f32x4_splat(divisor);
  WASMERGE_FOR_VECTORS(n, wasm_v128_store(x + i, wasm_f32x4_div(wasm_v128_load(x + i), d)))
  scalar::divide(x + i, divisor, n - i);
}
void add_lambda_times(float* out, const float* b, const float* mixed, float lambda, size_t n) {
  const v128_t l = wasm_f32x4_splat(lambda);
  WASMERGE_FOR_VECTORS(
      n, wasm_v128_store(out + i, wasm_f32x4_add(wasm_v128_load(b + i), wasm_f32x4_mul(l, wasm_v128_load(mixed + i)))))
  scalar::add_lambda_times(out + i, b + i, mixed + i, lambda, n - i);
}

// wasm's pmax(a, b) is (a < b ? b : a) and pmin(a, b) is (b < a ? b : a): std::max and
// std::min exactly, NaN included. (clang does not vectorize the scalar loop for wasm.)
void near_swap(float* out, const float* b, const float* m, float t, size_t n) {
  const v128_t tv = wasm_f32x4_splat(t), floor = wasm_f32x4_splat(1e-6f), zero = wasm_f32x4_splat(0.0f),
               one = wasm_f32x4_splat(1.0f);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t bv = wasm_v128_load(b + i), mv = wasm_v128_load(m + i);
    const v128_t distance = wasm_f32x4_abs(wasm_f32x4_sub(bv, mv));
    const v128_t w = wasm_f32x4_pmin(wasm_f32x4_pmax(wasm_f32x4_div(tv, wasm_f32x4_pmax(distance, floor)), zero), one);
    wasm_v128_store(out + i, wasm_f32x4_add(wasm_f32x4_mul(w, mv), wasm_f32x4_mul(wasm_f32x4_sub(one, w), bv)));
  }
  scalar::near_swap(out + i, b + i, m + i, t, n - i);
}

void elect_and_merge(float* mixed, const float* const* omega, const float* weights, size_t models, bool normalize,
                     size_t n, float* scratch) {
  const v128_t zero = wasm_f32x4_splat(0.0f), one = wasm_f32x4_splat(1.0f);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t sum = wasm_v128_load(omega[0] + i);
    for (size_t k = 1; k < models; ++k) sum = wasm_f32x4_add(sum, wasm_v128_load(omega[k] + i));
    const v128_t positive = wasm_f32x4_ge(sum, zero);
    v128_t merged = zero, divisor = zero;
    for (size_t k = 0; k < models; ++k) {
      const v128_t w = wasm_v128_load(omega[k] + i);
      const v128_t agrees = wasm_v128_and(wasm_i32x4_eq(wasm_f32x4_gt(w, zero), positive), wasm_f32x4_ne(w, zero));
      merged = wasm_f32x4_add(merged, wasm_v128_and(w, agrees));
      divisor = wasm_f32x4_add(divisor, wasm_v128_and(wasm_f32x4_splat(weights[k]), agrees));
    }
    if (normalize) merged = wasm_f32x4_div(merged, wasm_v128_bitselect(one, divisor, wasm_f32x4_eq(divisor, zero)));
    wasm_v128_store(mixed + i, merged);
  }
  if (i == n) return;
  std::vector<const float*> tails(models);
  for (size_t k = 0; k < models; ++k) tails[k] = omega[k] + i;
  scalar::elect_and_merge(mixed + i, tails.data(), weights, models, normalize, n - i, scratch);
}

double abs_sum(const float* x, size_t n) {
  // acc_j holds the running sums (s_2j, s_2j+1); x_i, i mod 8 = 2j + lane, goes to acc_j.
  v128_t acc[4] = {wasm_f64x2_splat(0), wasm_f64x2_splat(0), wasm_f64x2_splat(0), wasm_f64x2_splat(0)};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const v128_t a = wasm_v128_load(x + i), b = wasm_v128_load(x + i + 4);
    acc[0] = wasm_f64x2_add(acc[0], wasm_f64x2_abs(wasm_f64x2_promote_low_f32x4(a)));
    acc[1] = wasm_f64x2_add(acc[1], wasm_f64x2_abs(wasm_f64x2_promote_low_f32x4(wasm_i64x2_shuffle(a, a, 1, 0))));
    acc[2] = wasm_f64x2_add(acc[2], wasm_f64x2_abs(wasm_f64x2_promote_low_f32x4(b)));
    acc[3] = wasm_f64x2_add(acc[3], wasm_f64x2_abs(wasm_f64x2_promote_low_f32x4(wasm_i64x2_shuffle(b, b, 1, 0))));
  }
  double s[8];
  for (int j = 0; j < 4; ++j) {
    s[2 * j] = wasm_f64x2_extract_lane(acc[j], 0);
    s[2 * j + 1] = wasm_f64x2_extract_lane(acc[j], 1);
  }
  for (; i < n; ++i) s[i % 8] += std::fabs(static_cast<double>(x[i]));
  return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

double dot_sum(const float* x, const float* y, size_t n) {
  // As abs_sum: acc_j holds the running sums (s_2j, s_2j+1).
  v128_t acc[4] = {wasm_f64x2_splat(0), wasm_f64x2_splat(0), wasm_f64x2_splat(0), wasm_f64x2_splat(0)};
  auto product = [](v128_t a, v128_t b) {
    return wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(a), wasm_f64x2_promote_low_f32x4(b));
  };
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const v128_t a = wasm_v128_load(x + i), b = wasm_v128_load(x + i + 4);
    const v128_t c = wasm_v128_load(y + i), d = wasm_v128_load(y + i + 4);
    acc[0] = wasm_f64x2_add(acc[0], product(a, c));
    acc[1] = wasm_f64x2_add(acc[1], product(wasm_i64x2_shuffle(a, a, 1, 0), wasm_i64x2_shuffle(c, c, 1, 0)));
    acc[2] = wasm_f64x2_add(acc[2], product(b, d));
    acc[3] = wasm_f64x2_add(acc[3], product(wasm_i64x2_shuffle(b, b, 1, 0), wasm_i64x2_shuffle(d, d, 1, 0)));
  }
  double s[8];
  for (int j = 0; j < 4; ++j) {
    s[2 * j] = wasm_f64x2_extract_lane(acc[j], 0);
    s[2 * j + 1] = wasm_f64x2_extract_lane(acc[j], 1);
  }
  for (; i < n; ++i) s[i % 8] += static_cast<double>(x[i]) * static_cast<double>(y[i]);
  return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

#undef WASMERGE_FOR_VECTORS

#else  // no SIMD in this build: the scalar twins are the kernels

void subtract(float* x, const float* b, size_t n) { scalar::subtract(x, b, n); }
void scale_into(float* acc, const float* x, float w, size_t n) { scalar::scale_into(acc, x, w, n); }
void add_scaled(float* acc, const float* x, float w, size_t n) { scalar::add_scaled(acc, x, w, n); }
void divide(float* x, float divisor, size_t n) { scalar::divide(x, divisor, n); }
void add_lambda_times(float* out, const float* b, const float* mixed, float lambda, size_t n) {
  scalar::add_lambda_times(out, b, mixed, lambda, n);
}
void near_swap(float* out, const float* b, const float* m, float t, size_t n) { scalar::near_swap(out, b, m, t, n); }
void elect_and_merge(float* mixed, const float* const* omega, const float* weights, size_t models, bool normalize,
                     size_t n, float* scratch) {
  scalar::elect_and_merge(mixed, omega, weights, models, normalize, n, scratch);
}
double abs_sum(const float* x, size_t n) { return scalar::abs_sum(x, n); }
double dot_sum(const float* x, const float* y, size_t n) { return scalar::dot_sum(x, y, n); }

#endif

}  // namespace wasmerge
