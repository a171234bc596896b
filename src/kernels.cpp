#include "wasmerge/kernels.hpp"

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

#undef WASMERGE_FOR_VECTORS

#else  // no SIMD in this build: the scalar twins are the kernels

void subtract(float* x, const float* b, size_t n) { scalar::subtract(x, b, n); }
void scale_into(float* acc, const float* x, float w, size_t n) { scalar::scale_into(acc, x, w, n); }
void add_scaled(float* acc, const float* x, float w, size_t n) { scalar::add_scaled(acc, x, w, n); }
void divide(float* x, float divisor, size_t n) { scalar::divide(x, divisor, n); }
void add_lambda_times(float* out, const float* b, const float* mixed, float lambda, size_t n) {
  scalar::add_lambda_times(out, b, mixed, lambda, n);
}

#endif

}  // namespace wasmerge
