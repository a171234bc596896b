#pragma once
// The element-wise arithmetic of a merge, on f32 spans. Each kernel has a scalar twin
// with the same name in namespace scalar; the vector versions (wasm SIMD) must give the
// same bits, which the tests check. Operations are separate multiplies and adds (no FMA)
// so every build rounds the same way.
#include <cstddef>
#include <cstdint>

#include "wasmerge/dtype.hpp"

namespace wasmerge {

void subtract(float* x, const float* b, size_t n);                       // x -= b
void scale_into(float* acc, const float* x, float w, size_t n);          // acc = w·x
void add_scaled(float* acc, const float* x, float w, size_t n);          // acc += w·x
void divide(float* x, float divisor, size_t n);                          // x /= divisor
void add_lambda_times(float* out, const float* b, const float* mixed, float lambda, size_t n);  // out = b + λ·mixed
// NearSwap (SPEC §6): w = min(max(t / max(|b − m|, 1e-6), 0), 1) with std::max/min's
// rule for NaN (the first argument's unless the comparison holds); out = w·m + (1−w)·b.
void near_swap(float* out, const float* b, const float* m, float t, size_t n);

// The election's two rules, per element: the sign is + when Σ ω ≥ 0; a model agrees
// when its ω is non-zero with that sign.
inline bool elected_positive(float sum) { return sum >= 0.0f; }
inline bool agrees_with(float omega, bool positive) { return (omega > 0.0f) == positive && omega != 0.0f; }

// TIES' sign election and disjoint merge over K weighted task vectors ω_k (SPEC §2), per
// element: γ = sign of Σ_k ω_k (≥ 0 counts as +); model k agrees iff ω_k is non-zero with
// sign γ; mixed = Σ agreeing ω_k, divided by Σ agreeing w_k (0 becomes 1) when normalizing.
// Sums run over k in order, from ω_0 (the election) and from 0 (the merge). scratch: 2n.
void elect_and_merge(float* mixed, const float* const* omega, const float* weights, size_t models, bool normalize,
                     size_t n, float* scratch);

// One model's share of an election, before weighting: ω = weight · (rescale · kept δ), where
// kept δ is δ when the bit pattern of |δ| is at least min_bits and its kept bit is set, +0
// otherwise (a mask applied on the way), and the rescale is skipped when it is 1.
struct WeighedDelta {
  float* delta;              // null: δ comes from bf16 and base below
  uint32_t min_bits;         // a magnitude cut; 0 keeps every entry
  const uint8_t* kept_bits;  // entry i's bit is bit i % 8 of byte i / 8 (DARE's recorded draws); null: all set
  float rescale;
  float weight;
  // With delta null: δ_i = f32(bf16 element i) − base_i (to_f32_minus), converted on the
  // way into the election instead of stored and read back.
  const uint8_t* bf16 = nullptr;
  const float* base = nullptr;
};
// elect_and_merge of those ω_k, the same bits as masking, scaling and electing in turn,
// in one pass over the δ (wasm: the ω are never stored). May overwrite each delta. scratch: 2n.
// The scalar twin needs every delta.
void weigh_elect_and_merge(float* mixed, const WeighedDelta* models, size_t count, bool normalize, size_t n,
                           float* scratch);

// Σ|x_i| in f64, in a fixed order that vectorizes: eight running sums, x_i going to
// sum i mod 8, combined as ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)).
double abs_sum(const float* x, size_t n);
// Σ x_i·y_i in f64 (each product exact), in abs_sum's order.
double dot_sum(const float* x, const float* y, size_t n);
// abs_sum of x, and of x with the entries whose kept[i] is 0 zeroed (a mask's L1 norms
// before and after), from one pass that leaves x as it is.
void abs_sums_kept(const float* x, const uint8_t* kept, size_t n, double* all, double* kept_sum);
// The same for values as read: x = to_f32_minus_base(type, raw, base) (convert.hpp).
void abs_sums_kept(DType type, const uint8_t* raw, const float* base, const uint8_t* kept, size_t n, double* all,
                   double* kept_sum);

namespace scalar {
void subtract(float* x, const float* b, size_t n);
void scale_into(float* acc, const float* x, float w, size_t n);
void add_scaled(float* acc, const float* x, float w, size_t n);
void divide(float* x, float divisor, size_t n);
void add_lambda_times(float* out, const float* b, const float* mixed, float lambda, size_t n);
void near_swap(float* out, const float* b, const float* m, float t, size_t n);
void elect_and_merge(float* mixed, const float* const* omega, const float* weights, size_t models, bool normalize,
                     size_t n, float* scratch);
void weigh_elect_and_merge(float* mixed, const WeighedDelta* models, size_t count, bool normalize, size_t n,
                           float* scratch);
double abs_sum(const float* x, size_t n);
double dot_sum(const float* x, const float* y, size_t n);
void abs_sums_kept(const float* x, const uint8_t* kept, size_t n, double* all, double* kept_sum);
}  // namespace scalar

}  // namespace wasmerge
