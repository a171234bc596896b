#include "decoder/dot_kernels.hpp"

// One kernel over a four-lane f32 vector: wasm SIMD in the WebAssembly build, SSE natively,
// the scalar twins elsewhere. Multiplies and adds stay separate (no FMA) in all of them.
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define WASMERGE_DECODER_VECTORS 1
namespace {
using F4 = v128_t;
inline F4 zero4() { return wasm_f32x4_splat(0.0f); }
inline F4 load4(const float* p) { return wasm_v128_load(p); }
inline F4 add4(F4 a, F4 b) { return wasm_f32x4_add(a, b); }
inline F4 mul4(F4 a, F4 b) { return wasm_f32x4_mul(a, b); }
inline void store4(float* p, F4 v) { wasm_v128_store(p, v); }
}  // namespace
#elif defined(__SSE2__)
#include <emmintrin.h>
#define WASMERGE_DECODER_VECTORS 1
namespace {
using F4 = __m128;
inline F4 zero4() { return _mm_setzero_ps(); }
inline F4 load4(const float* p) { return _mm_loadu_ps(p); }
inline F4 add4(F4 a, F4 b) { return _mm_add_ps(a, b); }
inline F4 mul4(F4 a, F4 b) { return _mm_mul_ps(a, b); }
inline void store4(float* p, F4 v) { _mm_storeu_ps(p, v); }
}  // namespace
#endif

namespace wasmerge {
namespace decoder {

namespace {
// The scalar tail of a sum whose first `i` terms are in s, then the fixed combine.
inline float finish(float s[4], const float* x, const float* y, size_t i, size_t n) {
  for (; i < n; ++i) {
    const float product = x[i] * y[i];
    s[i % 4] = s[i % 4] + product;
  }
  return (s[0] + s[2]) + (s[1] + s[3]);
}
}  // namespace

namespace scalar {
float dot(const float* x, const float* y, size_t n) {
  float s[4] = {0, 0, 0, 0};
  return finish(s, x, y, 0, n);
}
void dot_tile_4x2(const float* const x[4], const float* w0, const float* w1, size_t n, float out[8]) {
  for (int t = 0; t < 4; ++t) {
    out[2 * t] = dot(x[t], w0, n);
    out[2 * t + 1] = dot(x[t], w1, n);
  }
}
}  // namespace scalar

#ifdef WASMERGE_DECODER_VECTORS

float dot(const float* x, const float* y, size_t n) {
  F4 acc = zero4();
  size_t i = 0;
  for (; i + 4 <= n; i += 4) acc = add4(acc, mul4(load4(x + i), load4(y + i)));
  float s[4];
  store4(s, acc);
  return finish(s, x, y, i, n);
}

void dot_tile_4x2(const float* const x[4], const float* w0, const float* w1, size_t n, float out[8]) {
  // Eight accumulators, one per (token, row): each is the four running sums of that dot.
  F4 acc[8] = {zero4(), zero4(), zero4(), zero4(), zero4(), zero4(), zero4(), zero4()};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const F4 a = load4(w0 + i), b = load4(w1 + i);
    for (int t = 0; t < 4; ++t) {
      const F4 v = load4(x[t] + i);
      acc[2 * t] = add4(acc[2 * t], mul4(v, a));
      acc[2 * t + 1] = add4(acc[2 * t + 1], mul4(v, b));
    }
  }
  for (int t = 0; t < 4; ++t) {
    float s[4];
    store4(s, acc[2 * t]);
    out[2 * t] = finish(s, x[t], w0, i, n);
    store4(s, acc[2 * t + 1]);
    out[2 * t + 1] = finish(s, x[t], w1, i, n);
  }
}

#else  // no vectors in this build: the scalar twins are the kernels

float dot(const float* x, const float* y, size_t n) { return scalar::dot(x, y, n); }
void dot_tile_4x2(const float* const x[4], const float* w0, const float* w1, size_t n, float out[8]) {
  scalar::dot_tile_4x2(x, w0, w1, n, out);
}

#endif

}  // namespace decoder
}  // namespace wasmerge
