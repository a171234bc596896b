// dare_ties: DARE's random drop, then TIES' sign election.
#include "methods/task_arithmetic_family.hpp"

namespace wasmerge {

const MergeMethod& dare_ties_method() {
  static const TaskArithmeticFamily method([] {
    TaskArithmeticFamily::Definition d;
    d.name = "dare_ties";
    d.title = "DARE + TIES";
    d.url = "https://arxiv.org/abs/2311.03099";
    d.summary =
        "Drops task-vector entries at random and rescales the rest (DARE), then elects a sign "
        "and merges the agreeing models (TIES).";
    d.formula = "δₖ = mₖ − b, keep each entry with probability density, rescale;  γ = sign(Σ wₖ·δₖ);  result = b + λ·Σ[sign = γ] wₖ·δₖ";
    d.card_link = "[DARE](https://arxiv.org/abs/2311.03099) [TIES](https://arxiv.org/abs/2306.01708)";
    d.sparsify = &random_rule();
    d.consensus = true;
    d.default_rescale = true;
    return d;
  }());
  return method;
}

}  // namespace wasmerge
