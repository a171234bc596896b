#include "decoder/layer_ops.hpp"

#include <cmath>

#include "math/deterministic_math.hpp"
#include "wasmerge/kernels.hpp"

namespace wasmerge {
namespace decoder {

void rms_norm(const float* x, const float* weight, size_t n, double eps, float* out) {
  const double mean_square = dot_sum(x, x, n) / static_cast<double>(n);
  const float r = static_cast<float>(1.0 / std::sqrt(mean_square + eps));
  for (size_t i = 0; i < n; ++i) {
    const float normed = x[i] * r;
    out[i] = weight[i] * normed;
  }
}

void silu_times(float* gate, const float* up, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const double g = gate[i];
    const float silu = static_cast<float>(g / (1.0 + deterministic_exp(-g)));
    gate[i] = silu * up[i];
  }
}

void add_into(float* x, const float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = x[i] + y[i];
}

}  // namespace decoder
}  // namespace wasmerge
