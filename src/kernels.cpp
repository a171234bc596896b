#include "wasmerge/kernels.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "convert_simd.hpp"
#include "wasmerge/convert.hpp"
#include "wasmerge/sparsify.hpp"

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

namespace wasmerge {
namespace {
// Eight running sums (x_i went to sum i mod 8) folded in abs_sum's fixed order.
inline double fold_eight(const double* s) { return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7])); }
}  // namespace

namespace {

// The models with every δ in memory: one given as bf16 and a base (WeighedDelta::bf16)
// is converted, elements [from, n), into a buffer of this thread's.
std::vector<WeighedDelta> with_deltas(const WeighedDelta* models, size_t count, size_t from, size_t n) {
  thread_local std::vector<float> values;
  values.resize(count * (n - from));
  std::vector<WeighedDelta> all(models, models + count);
  for (size_t k = 0; k < count; ++k) {
    WeighedDelta& m = all[k];
    if (m.delta) {
      m.delta += from;
    } else {
      m.delta = values.data() + k * (n - from);
      to_f32_minus(DType::BF16, m.bf16 + 2 * from, m.base + from, m.delta, n - from);
    }
    if (m.kept_bits) m.kept_bits += from / 8;  // from: a multiple of 8
  }
  return all;
}

}  // namespace

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

// The stages in turn, each δ becoming its ω in place (one loop per model, which compilers
// vectorize), then the election.
void weigh_elect_and_merge(float* mixed, const WeighedDelta* models, size_t count, bool normalize, size_t n,
                           float* scratch) {
  thread_local std::vector<const float*> omega;
  thread_local std::vector<float> weights;
  omega.resize(count);
  weights.resize(count);
  for (size_t k = 0; k < count; ++k) {
    const WeighedDelta& m = models[k];
    float* x = m.delta;
    const bool rescaled = m.rescale != 1.0f;
    auto weigh = [&](size_t i, bool drawn) {
      float kept = keep_if(x[i], (magnitude_bits(x[i]) >= m.min_bits) & drawn);
      if (rescaled) kept = m.rescale * kept;
      x[i] = m.weight * kept;
    };
    if (m.kept_bits) {  // as flags first: a loop that finds each entry's bit does not vectorize
      thread_local std::vector<uint8_t> drawn;
      drawn.resize(n);
      unpack_flags(m.kept_bits, n, drawn.data());
      for (size_t i = 0; i < n; ++i) weigh(i, drawn[i]);
    } else {
      for (size_t i = 0; i < n; ++i) weigh(i, true);
    }
    omega[k] = x;
    weights[k] = m.weight;
  }
  elect_and_merge(mixed, omega.data(), weights.data(), count, normalize, n, scratch);
}

double abs_sum(const float* x, size_t n) {
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < n; ++i) s[i % 8] += std::fabs(static_cast<double>(x[i]));
  return fold_eight(s);
}
double dot_sum(const float* x, const float* y, size_t n) {
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < n; ++i) s[i % 8] += static_cast<double>(x[i]) * static_cast<double>(y[i]);
  return fold_eight(s);
}
void abs_sums_kept(const float* x, const uint8_t* kept, size_t n, double* all, double* kept_sum) {
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0}, t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < n; ++i) {
    s[i % 8] += std::fabs(static_cast<double>(x[i]));
    t[i % 8] += std::fabs(static_cast<double>(keep_if(x[i], kept[i])));  // the masked entry, without a branch
  }
  *all = fold_eight(s);
  *kept_sum = fold_eight(t);
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

// Elections of more models than this run the scalar twin (the same bits): the vectors of
// one group of four stay in locals.
constexpr size_t kMostVectorModels = 16;

// The election of four elements from their models' ω (the rule of elect_and_merge);
// weights: each model's w splatted. Inlined, so that a fixed model count unrolls it.
__attribute__((always_inline)) inline v128_t elect_four(const v128_t* omega, const v128_t* weights, size_t models,
                                                        bool normalize) {
  const v128_t zero = wasm_f32x4_splat(0.0f), one = wasm_f32x4_splat(1.0f);
  v128_t sum = omega[0];
  for (size_t k = 1; k < models; ++k) sum = wasm_f32x4_add(sum, omega[k]);
  const v128_t positive = wasm_f32x4_ge(sum, zero);
  v128_t merged = zero, divisor = zero;
  for (size_t k = 0; k < models; ++k) {
    const v128_t w = omega[k];
    const v128_t agrees = wasm_v128_and(wasm_i32x4_eq(wasm_f32x4_gt(w, zero), positive), wasm_f32x4_ne(w, zero));
    merged = wasm_f32x4_add(merged, wasm_v128_and(w, agrees));
    divisor = wasm_f32x4_add(divisor, wasm_v128_and(weights[k], agrees));
  }
  if (normalize) merged = wasm_f32x4_div(merged, wasm_v128_bitselect(one, divisor, wasm_f32x4_eq(divisor, zero)));
  return merged;
}

void elect_and_merge(float* mixed, const float* const* omega, const float* weights, size_t models, bool normalize,
                     size_t n, float* scratch) {
  if (models > kMostVectorModels) return scalar::elect_and_merge(mixed, omega, weights, models, normalize, n, scratch);
  v128_t weight_splats[kMostVectorModels], four[kMostVectorModels];
  for (size_t k = 0; k < models; ++k) weight_splats[k] = wasm_f32x4_splat(weights[k]);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (size_t k = 0; k < models; ++k) four[k] = wasm_v128_load(omega[k] + i);
    wasm_v128_store(mixed + i, elect_four(four, weight_splats, models, normalize));
  }
  if (i == n) return;
  std::vector<const float*> tails(models);
  for (size_t k = 0; k < models; ++k) tails[k] = omega[k] + i;
  scalar::elect_and_merge(mixed + i, tails.data(), weights, models, normalize, n - i, scratch);
}

namespace {
// A lane mask per nibble of kept bits: lane j is all ones when bit j is set.
struct NibbleMasks {
  uint32_t lanes[16][4];
  constexpr NibbleMasks() : lanes() {
    for (int nibble = 0; nibble < 16; ++nibble)
      for (int j = 0; j < 4; ++j) lanes[nibble][j] = (nibble >> j & 1) ? 0xFFFFFFFFu : 0u;
  }
};
constexpr NibbleMasks kNibbleMasks;

// weigh_elect_and_merge's vector body for K models, or for `count` of them with K = 0:
// a fixed K unrolls every loop and keeps each model's vectors in locals. Returns where
// the scalar tail starts.
template <size_t K>
size_t weigh_elect_fours(float* mixed, const WeighedDelta* models, size_t count, bool normalize, size_t n) {
  constexpr size_t kHeld = K ? K : kMostVectorModels;
  const size_t held = K ? K : count;
  float* delta[kHeld];
  const uint8_t* bf16[kHeld];  // or δ from these and the base, converted here
  const float* base = nullptr;
  const uint8_t* kept_bits[kHeld];
  bool rescaled[kHeld];
  v128_t min_bits[kHeld], rescales[kHeld], weights[kHeld], omega[kHeld];
  for (size_t k = 0; k < held; ++k) {
    delta[k] = models[k].delta;
    bf16[k] = delta[k] ? nullptr : models[k].bf16;
    if (bf16[k]) base = models[k].base;
    kept_bits[k] = models[k].kept_bits;
    rescaled[k] = models[k].rescale != 1.0f;
    min_bits[k] = wasm_u32x4_splat(models[k].min_bits);
    rescales[k] = wasm_f32x4_splat(models[k].rescale);
    weights[k] = wasm_f32x4_splat(models[k].weight);
  }
  const v128_t magnitude = wasm_u32x4_splat(0x7FFFFFFFu);
  // Whole bytes of kept bits only: the scalar tail starts at a multiple of 8.
  const size_t whole = n / 8 * 8;
  size_t i = 0;
  for (; i < whole; i += 4) {
    const v128_t b = base ? wasm_v128_load(base + i) : wasm_f32x4_splat(0.0f);
    for (size_t k = 0; k < held; ++k) {
      // to_f32_minus's steps for bf16
      v128_t x = bf16[k] ? wasm_f32x4_sub(simd::load_bf16x4(bf16[k] + 2 * i), b) : wasm_v128_load(delta[k] + i);
      x = wasm_v128_and(x, wasm_u32x4_ge(wasm_v128_and(x, magnitude), min_bits[k]));
      if (kept_bits[k]) x = wasm_v128_and(x, wasm_v128_load(kNibbleMasks.lanes[kept_bits[k][i / 8] >> (i % 8) & 0xF]));
      if (rescaled[k]) x = wasm_f32x4_mul(rescales[k], x);
      omega[k] = wasm_f32x4_mul(weights[k], x);
    }
    wasm_v128_store(mixed + i, elect_four(omega, weights, held, normalize));
  }
  return i;
}
}  // namespace

// elect_and_merge's loop with each ω made in registers from its δ: the masked, rescaled
// and weighted arrays of the stages are never written.
void weigh_elect_and_merge(float* mixed, const WeighedDelta* models, size_t count, bool normalize, size_t n,
                           float* scratch) {
  size_t i;
  switch (count) {
    case 1: i = weigh_elect_fours<1>(mixed, models, count, normalize, n); break;
    case 2: i = weigh_elect_fours<2>(mixed, models, count, normalize, n); break;
    case 3: i = weigh_elect_fours<3>(mixed, models, count, normalize, n); break;
    case 4: i = weigh_elect_fours<4>(mixed, models, count, normalize, n); break;
    default:
      if (count > kMostVectorModels) {
        const std::vector<WeighedDelta> all = with_deltas(models, count, 0, n);
        return scalar::weigh_elect_and_merge(mixed, all.data(), count, normalize, n, scratch);
      }
      i = weigh_elect_fours<0>(mixed, models, count, normalize, n);
  }
  if (i == n) return;
  const std::vector<WeighedDelta> tails = with_deltas(models, count, i, n);
  scalar::weigh_elect_and_merge(mixed + i, tails.data(), count, normalize, n - i, scratch);
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
  return fold_eight(s);
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
  return fold_eight(s);
}

namespace {
// abs_sums_kept's sums over the whole groups of eight, into s and t (entry i to sum i mod
// 8); load8(i, a, b) gives entries i..i+7 as two f32x4. Returns where the rest starts.
template <typename Load8>
size_t abs_sums_kept_eights(Load8 load8, const uint8_t* kept, size_t n, double* s, double* t) {
  // As abs_sum, twice: acc_j and masked_j hold the running sums (s_2j, s_2j+1); each
  // pair's kept flags widen to two 64-bit lane masks.
  v128_t acc[4], masked[4];
  for (int j = 0; j < 4; ++j) acc[j] = masked[j] = wasm_f64x2_splat(0);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    v128_t a, b;
    load8(i, a, b);
    const v128_t magnitudes[4] = {wasm_f64x2_abs(wasm_f64x2_promote_low_f32x4(a)),
                                  wasm_f64x2_abs(wasm_f64x2_promote_low_f32x4(wasm_i64x2_shuffle(a, a, 1, 0))),
                                  wasm_f64x2_abs(wasm_f64x2_promote_low_f32x4(b)),
                                  wasm_f64x2_abs(wasm_f64x2_promote_low_f32x4(wasm_i64x2_shuffle(b, b, 1, 0)))};
    const v128_t flags = wasm_i8x16_ne(wasm_v128_load64_zero(kept + i), wasm_i8x16_splat(0));  // 0 or -1 per byte
    const v128_t halves = wasm_i16x8_extend_low_i8x16(flags);
    const v128_t low = wasm_i32x4_extend_low_i16x8(halves), high = wasm_i32x4_extend_high_i16x8(halves);
    const v128_t masks[4] = {wasm_i64x2_extend_low_i32x4(low), wasm_i64x2_extend_high_i32x4(low),
                             wasm_i64x2_extend_low_i32x4(high), wasm_i64x2_extend_high_i32x4(high)};
    for (int j = 0; j < 4; ++j) {
      acc[j] = wasm_f64x2_add(acc[j], magnitudes[j]);
      masked[j] = wasm_f64x2_add(masked[j], wasm_v128_and(magnitudes[j], masks[j]));
    }
  }
  for (int j = 0; j < 4; ++j) {
    s[2 * j] = wasm_f64x2_extract_lane(acc[j], 0);
    s[2 * j + 1] = wasm_f64x2_extract_lane(acc[j], 1);
    t[2 * j] = wasm_f64x2_extract_lane(masked[j], 0);
    t[2 * j + 1] = wasm_f64x2_extract_lane(masked[j], 1);
  }
  return i;
}

// The scalar twin's loop over entries [from, n); x[0] is entry `from`.
void abs_sums_kept_rest(const float* x, const uint8_t* kept, size_t from, size_t n, double* s, double* t) {
  for (size_t i = from; i < n; ++i) {
    s[i % 8] += std::fabs(static_cast<double>(x[i - from]));
    t[i % 8] += std::fabs(static_cast<double>(keep_if(x[i - from], kept[i])));
  }
}
}  // namespace

void abs_sums_kept(const float* x, const uint8_t* kept, size_t n, double* all, double* kept_sum) {
  double s[8], t[8];
  const size_t i = abs_sums_kept_eights(
      [x](size_t at, v128_t& a, v128_t& b) {
        a = wasm_v128_load(x + at);
        b = wasm_v128_load(x + at + 4);
      },
      kept, n, s, t);
  abs_sums_kept_rest(x + i, kept, i, n, s, t);
  *all = fold_eight(s);
  *kept_sum = fold_eight(t);
}

// bf16 task vectors are converted on the way in, eight entries at a time; the rest of the
// entries, and other inputs, are converted first.
void abs_sums_kept(DType type, const uint8_t* raw, const float* base, const uint8_t* kept, size_t n, double* all,
                   double* kept_sum) {
  if (type != DType::BF16 || !base) {
    return abs_sums_kept(converted_input(type, raw, base, n), kept, n, all, kept_sum);
  }
  double s[8], t[8];
  const size_t i = abs_sums_kept_eights(
      [raw, base](size_t at, v128_t& a, v128_t& b) {  // to_f32_minus's steps for bf16
        a = wasm_f32x4_sub(simd::load_bf16x4(raw + 2 * at), wasm_v128_load(base + at));
        b = wasm_f32x4_sub(simd::load_bf16x4(raw + 2 * at + 8), wasm_v128_load(base + at + 4));
      },
      kept, n, s, t);
  float rest[8];
  to_f32_minus(DType::BF16, raw + 2 * i, base + i, rest, n - i);
  abs_sums_kept_rest(rest, kept, i, n, s, t);
  *all = fold_eight(s);
  *kept_sum = fold_eight(t);
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
void weigh_elect_and_merge(float* mixed, const WeighedDelta* models, size_t count, bool normalize, size_t n,
                           float* scratch) {
  const std::vector<WeighedDelta> all = with_deltas(models, count, 0, n);
  scalar::weigh_elect_and_merge(mixed, all.data(), count, normalize, n, scratch);
}
double abs_sum(const float* x, size_t n) { return scalar::abs_sum(x, n); }
double dot_sum(const float* x, const float* y, size_t n) { return scalar::dot_sum(x, y, n); }
void abs_sums_kept(const float* x, const uint8_t* kept, size_t n, double* all, double* kept_sum) {
  scalar::abs_sums_kept(x, kept, n, all, kept_sum);
}
void abs_sums_kept(DType type, const uint8_t* raw, const float* base, const uint8_t* kept, size_t n, double* all,
                   double* kept_sum) {
  scalar::abs_sums_kept(converted_input(type, raw, base, n), kept, n, all, kept_sum);
}

#endif

}  // namespace wasmerge
