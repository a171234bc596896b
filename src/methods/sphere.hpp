#pragma once
// The great-circle step that slerp and nuslerp share: the coefficients of v_0 and v_1 in
// sin((1−t)θ)/sin θ · v_0 + sin(tθ)/sin θ · v_1, and the straight line they fall back to.
#include <cmath>
#include <vector>

namespace wasmerge {

inline std::vector<double> lerp_coefficients(double t) { return {1 - t, t}; }

inline std::vector<double> slerp_coefficients(double t, double theta) {
  const double s = std::sin(theta);
  return {std::sin((1 - t) * theta) / s, std::sin(t * theta) / s};
}

}  // namespace wasmerge
