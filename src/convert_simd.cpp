// Vector conversions: wasm SIMD where the build has it, the scalar twins elsewhere.
// Each kernel mirrors its scalar twin step by step so that both give the same bits.
#include "wasmerge/convert.hpp"

#include "convert_simd.hpp"

#include <vector>

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

namespace wasmerge {

#ifdef __wasm_simd128__
namespace {

using simd::bf16_bits_to_f32;
using simd::f16_bits_to_f32;

// 8 halves -> two f32x4 bit patterns, widened as u32.
inline void widen_u16x8(v128_t h, v128_t& lo, v128_t& hi) {
  lo = wasm_u32x4_extend_low_u16x8(h);
  hi = wasm_u32x4_extend_high_u16x8(h);
}

inline v128_t f32_to_bf16_bits(v128_t x) {
  const v128_t odd = wasm_v128_and(wasm_u32x4_shr(x, 16), wasm_i32x4_splat(1));
  const v128_t rounded = wasm_u32x4_shr(wasm_i32x4_add(wasm_i32x4_add(x, wasm_i32x4_splat(0x7FFF)), odd), 16);
  const v128_t nan = wasm_v128_or(wasm_u32x4_shr(x, 16), wasm_i32x4_splat(0x40));
  const v128_t is_nan = wasm_f32x4_ne(x, x);
  return wasm_v128_bitselect(nan, rounded, is_nan);
}

inline v128_t f32_to_f16_bits(v128_t x) {
  const v128_t sign = wasm_v128_and(wasm_u32x4_shr(x, 16), wasm_i32x4_splat(0x8000));
  const v128_t ax = wasm_v128_and(x, wasm_i32x4_splat(0x7FFFFFFF));
  const v128_t odd = wasm_v128_and(wasm_u32x4_shr(ax, 13), wasm_i32x4_splat(1));
  const v128_t normal =
      wasm_u32x4_shr(wasm_i32x4_add(wasm_i32x4_add(ax, wasm_i32x4_splat(static_cast<int32_t>(0xC8000FFFu))), odd), 13);
  const v128_t subnormal =
      wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(ax, wasm_f32x4_splat(16777216.0f))));
  const v128_t nan = wasm_v128_or(wasm_i32x4_splat(0x7E00), wasm_v128_and(wasm_u32x4_shr(ax, 13), wasm_i32x4_splat(0x3FF)));
  // ax is below 2^31, so signed compares order it like the scalar's unsigned ones.
  const v128_t is_normal = wasm_i32x4_ge(ax, wasm_i32x4_splat(0x38800000));
  const v128_t is_overflow = wasm_i32x4_ge(ax, wasm_i32x4_splat(0x477FF000));
  const v128_t is_nan = wasm_i32x4_gt(ax, wasm_i32x4_splat(0x7F800000));
  v128_t magnitude = wasm_v128_bitselect(normal, subnormal, is_normal);
  magnitude = wasm_v128_bitselect(wasm_i32x4_splat(0x7C00), magnitude, is_overflow);
  magnitude = wasm_v128_bitselect(nan, magnitude, is_nan);
  return wasm_v128_or(magnitude, sign);
}

// finish(v, i): what is stored of the four f32 at element i (as they are, or minus a base).
template <typename ToF32Bits, typename Finish>
void halves_to_f32(const uint8_t* src, float* dst, size_t n, ToF32Bits convert, Finish finish) {
  for (size_t i = 0; i + 8 <= n; i += 8) {
    v128_t lo, hi;
    widen_u16x8(wasm_v128_load(src + 2 * i), lo, hi);
    wasm_v128_store(dst + i, finish(convert(lo), i));
    wasm_v128_store(dst + i + 4, finish(convert(hi), i + 4));
  }
}

inline v128_t as_is(v128_t v, size_t) { return v; }

template <typename ToHalfBits>
void f32_to_halves(const float* src, uint8_t* dst, size_t n, ToHalfBits convert) {
  for (size_t i = 0; i + 8 <= n; i += 8) {
    const v128_t lo = convert(wasm_v128_load(src + i));
    const v128_t hi = convert(wasm_v128_load(src + i + 4));
    wasm_v128_store(dst + 2 * i, wasm_u16x8_narrow_i32x4(lo, hi));
  }
}

// How many leading elements hold no all-ones exponent (NaN, ±inf), in whole spans of
// 128 bytes: the spans are tested eight vectors at once, the rest is the scalar's.
template <typename LanesEqual>
size_t finite_spans(const uint8_t* src, size_t bytes, v128_t exponent_mask, LanesEqual equal) {
  constexpr size_t kSpan = 128;
  size_t done = 0;
  for (; done + kSpan <= bytes; done += kSpan) {
    v128_t special = wasm_i32x4_splat(0);
    for (size_t k = 0; k < kSpan; k += 16)
      special = wasm_v128_or(special, equal(wasm_v128_and(wasm_v128_load(src + done + k), exponent_mask), exponent_mask));
    if (wasm_v128_any_true(special)) break;
  }
  return done;
}

}  // namespace

size_t first_nonfinite(DType t, const uint8_t* src, size_t n) {
  size_t clean = 0, size = 0;  // elements known finite, bytes each
  if (t == DType::BF16 || t == DType::F16)
    clean = finite_spans(src, 2 * n, wasm_i16x8_splat(t == DType::BF16 ? 0x7F80 : 0x7C00), wasm_i16x8_eq) / (size = 2);
  else if (t == DType::F32)
    clean = finite_spans(src, 4 * n, wasm_i32x4_splat(0x7F800000), wasm_i32x4_eq) / (size = 4);
  return clean + scalar::first_nonfinite(t, src + clean * size, n - clean);
}

void to_f32(DType from, const uint8_t* src, float* dst, size_t n) {
  const size_t vector_part = n & ~size_t{7};
  if (from == DType::BF16) halves_to_f32(src, dst, vector_part, bf16_bits_to_f32, as_is);
  else if (from == DType::F16) halves_to_f32(src, dst, vector_part, f16_bits_to_f32, as_is);
  else return scalar::to_f32(from, src, dst, n);
  scalar::to_f32(from, src + 2 * vector_part, dst + vector_part, n - vector_part);
}

void to_f32_minus(DType from, const uint8_t* src, const float* base, float* dst, size_t n) {
  const size_t vector_part = n & ~size_t{7};
  auto minus_base = [base](v128_t v, size_t i) { return wasm_f32x4_sub(v, wasm_v128_load(base + i)); };
  if (from == DType::BF16) halves_to_f32(src, dst, vector_part, bf16_bits_to_f32, minus_base);
  else if (from == DType::F16) halves_to_f32(src, dst, vector_part, f16_bits_to_f32, minus_base);
  else return scalar::to_f32_minus(from, src, base, dst, n);
  scalar::to_f32_minus(from, src + 2 * vector_part, base + vector_part, dst + vector_part, n - vector_part);
}

void from_f32(DType to, const float* src, uint8_t* dst, size_t n) {
  const size_t vector_part = n & ~size_t{7};
  if (to == DType::BF16) f32_to_halves(src, dst, vector_part, f32_to_bf16_bits);
  else if (to == DType::F16) f32_to_halves(src, dst, vector_part, f32_to_f16_bits);
  else return scalar::from_f32(to, src, dst, n);
  scalar::from_f32(to, src + vector_part, dst + 2 * vector_part, n - vector_part);
}

#else  // no SIMD in this build: the scalar twins are the kernels

void to_f32(DType from, const uint8_t* src, float* dst, size_t n) { scalar::to_f32(from, src, dst, n); }
void to_f32_minus(DType from, const uint8_t* src, const float* base, float* dst, size_t n) {
  scalar::to_f32_minus(from, src, base, dst, n);
}
void from_f32(DType to, const float* src, uint8_t* dst, size_t n) { scalar::from_f32(to, src, dst, n); }
size_t first_nonfinite(DType t, const uint8_t* src, size_t n) { return scalar::first_nonfinite(t, src, n); }

#endif

const float* converted_input(DType from, const uint8_t* src, const float* base, size_t n) {
  thread_local std::vector<float> values;
  values.resize(n);
  to_f32_minus_base(from, src, base, values.data(), n);
  return values.data();
}

}  // namespace wasmerge
