#pragma once
// exp, log, sin, cos and acos from +, −, ×, ÷ (and sqrt, which IEEE rounds exactly) alone (no libm, no FMA), so a
// result that depends on them is the same bytes natively and in WebAssembly, whose C libraries may differ in the last
// bit. Accurate to a few units in the last place of a double.
namespace wasmerge {

double deterministic_exp(double x);
double deterministic_log(double x);  // x > 0; NaN for x < 0, −inf for 0
double deterministic_sin(double x);  // |x| < 2^20·π/2 (the spherical methods' angles are below 10)
double deterministic_cos(double x);
double deterministic_acos(double x);  // x in [−1, 1]; NaN outside

}  // namespace wasmerge
