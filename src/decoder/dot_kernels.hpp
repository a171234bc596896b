#pragma once
// The decoder's inner products in f32, each one sum in a fixed order: four running sums,
// x_i·y_i going to sum i mod 4, combined as (s0 + s2) + (s1 + s3). The vector versions
// (wasm SIMD, or SSE natively) hold the four sums in one register, so they give the bits
// of the scalar twins, which the tests check; a tile computes several such sums at once to
// reuse each load, never changing any one sum's order.
#include <cstddef>

namespace wasmerge {
namespace decoder {

float dot(const float* x, const float* y, size_t n);
// out[2t + r] = dot(x[t], w[r], n) for 4 tokens t and 2 weight rows r.
void dot_tile_4x2(const float* const x[4], const float* w0, const float* w1, size_t n, float out[8]);

namespace scalar {
float dot(const float* x, const float* y, size_t n);
void dot_tile_4x2(const float* const x[4], const float* w0, const float* w1, size_t n, float out[8]);
}  // namespace scalar

}  // namespace decoder
}  // namespace wasmerge
