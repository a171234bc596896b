#pragma once
// f16 and bf16 bit patterns to f32, four lanes at a time (wasm SIMD builds only): the
// steps of the vector conversions (convert_simd.cpp), shared with kernels that convert
// their inputs on the way in instead of reading a converted copy (bracket_select.cpp,
// kernels.cpp).
#ifdef __wasm_simd128__
#include <wasm_simd128.h>

#include <cstdint>

namespace wasmerge::simd {

// Halves widened to u32 lanes -> the f32 bit patterns.
inline v128_t bf16_bits_to_f32(v128_t h32) { return wasm_i32x4_shl(h32, 16); }

inline v128_t f16_bits_to_f32(v128_t h32) {
  const v128_t sign = wasm_i32x4_shl(wasm_v128_and(h32, wasm_i32x4_splat(0x8000)), 16);
  const v128_t exponent = wasm_v128_and(h32, wasm_i32x4_splat(0x7C00));
  const v128_t mantissa = wasm_v128_and(h32, wasm_i32x4_splat(0x3FF));
  const v128_t normal = wasm_i32x4_add(wasm_i32x4_shl(wasm_v128_and(h32, wasm_i32x4_splat(0x7FFF)), 13),
                                       wasm_i32x4_splat(112 << 23));
  const v128_t special = wasm_v128_or(wasm_i32x4_splat(0x7F800000), wasm_i32x4_shl(mantissa, 13));
  const v128_t subnormal = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(mantissa), wasm_f32x4_splat(1.0f / 16777216.0f));
  const v128_t is_zero_exp = wasm_i32x4_eq(exponent, wasm_i32x4_splat(0));
  const v128_t is_max_exp = wasm_i32x4_eq(exponent, wasm_i32x4_splat(0x7C00));
  v128_t magnitude = wasm_v128_bitselect(special, normal, is_max_exp);
  magnitude = wasm_v128_bitselect(subnormal, magnitude, is_zero_exp);
  return wasm_v128_or(magnitude, sign);
}

// Four elements of raw bytes as f32 (a load of four halves, widened to u32 lanes).
inline v128_t load_bf16x4(const uint8_t* p) { return bf16_bits_to_f32(wasm_u32x4_load16x4(p)); }
inline v128_t load_f16x4(const uint8_t* p) { return f16_bits_to_f32(wasm_u32x4_load16x4(p)); }

}  // namespace wasmerge::simd
#endif
