// ties: trim each task vector to its largest entries, elect a sign, merge the agreeing.
#include "methods/task_arithmetic_family.hpp"

namespace wasmerge {

const MergeMethod& ties_method() {
  static const TaskArithmeticFamily method([] {
    TaskArithmeticFamily::Definition d;
    d.name = "ties";
    d.title = "TIES";
    d.url = "https://arxiv.org/abs/2306.01708";
    d.summary =
        "Keeps each task vector's largest entries (density), elects a sign per weight, "
        "and averages only the models that agree with it.";
    d.formula = "δₖ = mₖ − b, keep the floor(density·n) largest |δₖ|;  γ = sign(Σ wₖ·δₖ);  result = b + λ·Σ[sign = γ] wₖ·δₖ / Σ[sign = γ] wₖ";
    d.card_link = "[TIES](https://arxiv.org/abs/2306.01708)";
    d.sparsify = &magnitude_rule();
    d.consensus = true;
    d.default_normalize = true;
    return d;
  }());
  return method;
}

}  // namespace wasmerge
