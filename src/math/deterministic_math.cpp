#include "math/deterministic_math.hpp"

#include <cmath>
#include <limits>

namespace wasmerge {
namespace {

// ln 2 split so that k·kLn2High is exact for |k| < 2^11 (Cody and Waite).
constexpr double kLn2High = 6.93147180369123816490e-01;
constexpr double kLn2Low = 1.90821492927058770002e-10;
constexpr double kInvLn2 = 1.44269504088896338700e+00;
// 1/n and 1/(2j + 1), rounded once at compile time: multiplications in the loops below.
constexpr double kInverse[] = {0,       1.0 / 1,  1.0 / 2,  1.0 / 3,  1.0 / 4,  1.0 / 5,  1.0 / 6,  1.0 / 7, 1.0 / 8,
                               1.0 / 9, 1.0 / 10, 1.0 / 11, 1.0 / 12, 1.0 / 13, 1.0 / 14, 1.0 / 15, 1.0 / 16};
constexpr double kInverseOdd[] = {1.0 / 1,  1.0 / 3,  1.0 / 5,  1.0 / 7,  1.0 / 9,  1.0 / 11, 1.0 / 13,
                                  1.0 / 15, 1.0 / 17, 1.0 / 19, 1.0 / 21, 1.0 / 23, 1.0 / 25, 1.0 / 27};

}  // namespace

// exp(x) = 2^k · exp(r), |r| ≤ ln2/2, exp(r) by its Taylor series to r^16/16!.
double deterministic_exp(double x) {
  if (std::isnan(x)) return x;
  if (x > 709.78) return std::numeric_limits<double>::infinity();
  if (x < -745.2) return 0.0;
  const double k = std::floor(x * kInvLn2 + 0.5);
  const double r = (x - k * kLn2High) - k * kLn2Low;
  double sum = 1.0;
  for (int n = 16; n >= 1; --n) sum = 1.0 + r * sum * kInverse[n];
  return std::ldexp(sum, static_cast<int>(k));
}

// log(x) = e·ln2 + log(m), m in [√½, √2): log(m) = 2·atanh(s), s = (m − 1)/(m + 1), |s| < 0.172.
double deterministic_log(double x) {
  if (std::isnan(x) || x < 0) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0) return -std::numeric_limits<double>::infinity();
  if (std::isinf(x)) return x;
  int e;
  double m = std::frexp(x, &e);
  if (m < 0.70710678118654752440) {
    m *= 2;
    --e;
  }
  const double s = (m - 1) / (m + 1), s2 = s * s;
  double series = 0.0;  // Σ s^(2j) / (2j + 1), j = 0..13
  for (int j = 13; j >= 0; --j) series = kInverseOdd[j] + s2 * series;
  return e * kLn2High + (e * kLn2Low + 2 * s * series);
}

}  // namespace wasmerge
