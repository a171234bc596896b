// della_linear: DELLA's magnitude-ranked drop, then a weighted sum.
#include "methods/task_arithmetic_family.hpp"

namespace wasmerge {

const MergeMethod& della_linear_method() {
  static const TaskArithmeticFamily method([] {
    TaskArithmeticFamily::Definition d;
    d.name = "della_linear";
    d.title = "Linear DELLA";
    d.url = "https://arxiv.org/abs/2406.11617";
    d.summary =
        "Drops task-vector entries at random, the larger ones (by magnitude rank within their row) less often "
        "(MagPrune), rescales the rest, and adds the weighted task vectors to the base.";
    d.formula = "δₖ = mₖ − b, keep with p = density − ε + 2ε·rank/(cols − 1) per row, rescale;  result = b + λ·Σ wₖ·δₖ";
    d.card_link = "[Linear DELLA](https://arxiv.org/abs/2406.11617)";
    d.sparsify = &magprune_rule();
    d.consensus = false;
    d.default_normalize = false;
    d.default_rescale = true;
    return d;
  }());
  return method;
}

}  // namespace wasmerge
