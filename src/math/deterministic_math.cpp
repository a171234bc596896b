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
// π/2 split the same way: k·kHalfPiHigh is exact for |k| < 2^20 (fdlibm's pio2_1, pio2_1t).
constexpr double kHalfPiHigh = 1.57079632673412561417e+00;
constexpr double kHalfPiLow = 6.07710050650619224932e-11;
constexpr double kTwoOverPi = 6.36619772367581382433e-01;
constexpr double kPi = 3.14159265358979311600e+00, kHalfPi = 1.57079632679489655800e+00;
constexpr double kSixthPi = 5.23598775598298815658e-01, kSqrt3 = 1.73205080756887719318e+00;
constexpr double kTanTwelfthPi = 2.67949192431122695608e-01;
constexpr double kInverseOdd[] = {1.0 / 1,  1.0 / 3,  1.0 / 5,  1.0 / 7,  1.0 / 9,  1.0 / 11, 1.0 / 13,
                                  1.0 / 15, 1.0 / 17, 1.0 / 19, 1.0 / 21, 1.0 / 23, 1.0 / 25, 1.0 / 27};

// 1/n! for the sine and cosine series, n = 0..19.
constexpr double kInverseFactorial[] = {1.0,
                                        1.0,
                                        1.0 / 2,
                                        1.0 / 6,
                                        1.0 / 24,
                                        1.0 / 120,
                                        1.0 / 720,
                                        1.0 / 5040,
                                        1.0 / 40320,
                                        1.0 / 362880,
                                        1.0 / 3628800,
                                        1.0 / 39916800,
                                        1.0 / 479001600,
                                        1.0 / 6227020800,
                                        1.0 / 87178291200,
                                        1.0 / 1307674368000,
                                        1.0 / 20922789888000,
                                        1.0 / 355687428096000,
                                        1.0 / 6402373705728000,
                                        1.0 / 121645100408832000};

// sin and cos of |r| ≤ π/4 by their Taylor series, to r^19 and r^18.
double sin_kernel(double r) {
  const double r2 = r * r;
  double sum = 0.0;
  for (int n = 19; n >= 3; n -= 2) sum = r2 * (kInverseFactorial[n] * ((n / 2) % 2 ? -1.0 : 1.0) + sum);
  return r + r * sum;
}
double cos_kernel(double r) {
  const double r2 = r * r;
  double sum = 0.0;
  for (int n = 18; n >= 2; n -= 2) sum = r2 * (kInverseFactorial[n] * ((n / 2) % 2 ? -1.0 : 1.0) + sum);
  return 1.0 + sum;
}

// x = k·π/2 + r, |r| ≤ π/4; returns r and k mod 4 (which of ±sin r, ±cos r is sin x).
double reduce_half_pi(double x, int& quadrant) {
  const double k = std::floor(x * kTwoOverPi + 0.5);
  quadrant = static_cast<int>(std::fmod(k, 4.0));
  if (quadrant < 0) quadrant += 4;
  return (x - k * kHalfPiHigh) - k * kHalfPiLow;
}

// atan of y ≥ 0: for y > 1, π/2 − atan(1/y); above tan(π/12), π/6 + atan of the rotated
// argument (y√3 − 1)/(y + √3); then its series, |y| ≤ 0.268, to y^55.
double atan_nonnegative(double y) {
  if (y > 1) return kHalfPi - atan_nonnegative(1 / y);
  double offset = 0;
  if (y > kTanTwelfthPi) {
    offset = kSixthPi;
    y = (y * kSqrt3 - 1) / (y + kSqrt3);
  }
  const double y2 = y * y;
  double series = 0.0;  // Σ (−1)^j y^(2j) / (2j + 1), j = 0..27
  for (int j = 27; j >= 0; --j) series = (j % 2 ? -1.0 : 1.0) / (2 * j + 1) + y2 * series;
  return offset + y * series;
}

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

double deterministic_sin(double x) {
  if (std::isnan(x) || std::isinf(x)) return std::numeric_limits<double>::quiet_NaN();
  int quadrant;
  const double r = reduce_half_pi(x, quadrant);
  switch (quadrant) {
    case 0: return sin_kernel(r);
    case 1: return cos_kernel(r);
    case 2: return -sin_kernel(r);
    default: return -cos_kernel(r);
  }
}

double deterministic_cos(double x) {
  if (std::isnan(x) || std::isinf(x)) return std::numeric_limits<double>::quiet_NaN();
  int quadrant;
  const double r = reduce_half_pi(x, quadrant);
  switch (quadrant) {
    case 0: return cos_kernel(r);
    case 1: return -sin_kernel(r);
    case 2: return -cos_kernel(r);
    default: return sin_kernel(r);
  }
}

// acos(x) = 2·atan(√((1 − x)/(1 + x))): 1 − x and 1 + x are exact near ±1, where the angle is small.
double deterministic_acos(double x) {
  if (std::isnan(x) || x < -1 || x > 1) return std::numeric_limits<double>::quiet_NaN();
  if (x == -1) return kPi;
  return 2 * atan_nonnegative(std::sqrt((1 - x) / (1 + x)));
}

}  // namespace wasmerge
