// dare_linear: drop task-vector entries at random, rescale the rest, add them up.
#include "methods/task_arithmetic_family.hpp"

namespace wasmerge {

const MergeMethod& dare_linear_method() {
  static const TaskArithmeticFamily method([] {
    TaskArithmeticFamily::Definition d;
    d.name = "dare_linear";
    d.title = "DARE (linear)";
    d.url = "https://arxiv.org/abs/2311.03099";
    d.summary =
        "Drops task-vector entries at random (keeping a fraction density), rescales what is left, "
        "and adds the weighted sum to the base.";
    d.formula = "δₖ = mₖ − b, keep each entry with probability density, rescale (L1 or 1/density);  result = b + λ·Σ wₖ·δₖ";
    d.card_link = "linear [DARE](https://arxiv.org/abs/2311.03099)";
    d.sparsify = &random_rule();
    d.default_rescale = true;
    return d;
  }());
  return method;
}

}  // namespace wasmerge
