#pragma once
// Conversions between the mergeable dtypes and f32, the engine's working type.
// f32 -> f16/bf16 rounds to nearest even, keeps NaN a NaN, and sends f16 overflow to ±inf.
// The vector kernels (wasm SIMD where built with it) and the scalar twins give the same
// bits; tests compare them on every f16/bf16 pattern.
#include <cstddef>
#include <cstdint>

#include "wasmerge/dtype.hpp"

namespace wasmerge {

// Raw little-endian elements of `from` -> f32. `from` must be mergeable.
void to_f32(DType from, const uint8_t* src, float* dst, size_t n);
// The same minus base, as one f32 subtraction each: dst = f32(src) − base (a task vector).
void to_f32_minus(DType from, const uint8_t* src, const float* base, float* dst, size_t n);
// to_f32_minus, or to_f32 when base is null: an input as the pipeline hands it to methods.
inline void to_f32_minus_base(DType from, const uint8_t* src, const float* base, float* dst, size_t n) {
  if (base) to_f32_minus(from, src, base, dst, n);
  else to_f32(from, src, dst, n);
}
// The same into a buffer of this thread's, valid until its next call on this thread.
const float* converted_input(DType from, const uint8_t* src, const float* base, size_t n);
// f32 -> raw little-endian elements of `to`. `to` must be mergeable.
void from_f32(DType to, const float* src, uint8_t* dst, size_t n);

// The index of the first NaN or ±inf among n raw elements of a mergeable dtype, or n.
size_t first_nonfinite(DType t, const uint8_t* src, size_t n);

namespace scalar {
float f16_to_f32(uint16_t h);
float bf16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
uint16_t f32_to_bf16(float f);
void to_f32(DType from, const uint8_t* src, float* dst, size_t n);
void to_f32_minus(DType from, const uint8_t* src, const float* base, float* dst, size_t n);
void from_f32(DType to, const float* src, uint8_t* dst, size_t n);
size_t first_nonfinite(DType t, const uint8_t* src, size_t n);
}  // namespace scalar

}  // namespace wasmerge
