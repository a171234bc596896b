#pragma once
// The element-wise parts of a decoder layer, per token row.
#include <cstddef>

namespace wasmerge {
namespace decoder {

// transformers' RMSNorm: x·(1/√(mean(x²) + eps)), rounded to f32, then ·weight. The mean
// is an f64 sum in kernels' fixed order.
void rms_norm(const float* x, const float* weight, size_t n, double eps, float* out);

// gate[i] = silu(gate[i])·up[i], silu(x) = x / (1 + e^−x) in f64 with the project's exp.
void silu_times(float* gate, const float* up, size_t n);

// x += y (the residual stream).
void add_into(float* x, const float* y, size_t n);

}  // namespace decoder
}  // namespace wasmerge
