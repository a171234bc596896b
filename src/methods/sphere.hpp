#pragma once
// The great-circle step that slerp and nuslerp share: the coefficients of v_0 and v_1 in
// sin((1−t)θ)/sin θ · v_0 + sin(tθ)/sin θ · v_1, and the straight line they fall back to.
// The spherical methods take sin, cos and acos from math/deterministic_math, not the C
// library: glibc and the wasm build's libc may differ in a last bit, which can round a
// coefficient to another f32 and change the bytes.
#include <vector>

#include "math/deterministic_math.hpp"

namespace wasmerge {

inline std::vector<double> lerp_coefficients(double t) { return {1 - t, t}; }

inline std::vector<double> slerp_coefficients(double t, double theta) {
  const double s = deterministic_sin(theta);
  return {deterministic_sin((1 - t) * theta) / s, deterministic_sin(t * theta) / s};
}

}  // namespace wasmerge
