#pragma once
// exp and log from +, −, ×, ÷ alone (no libm, no FMA), so a result that depends on them
// is the same bytes natively and in WebAssembly, whose C libraries may differ in the last
// bit. Accurate to a few units in the last place of a double.
namespace wasmerge {

double deterministic_exp(double x);
double deterministic_log(double x);  // x > 0; NaN for x < 0, −inf for 0

}  // namespace wasmerge
