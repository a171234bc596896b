// della: drop task-vector entries at random, the larger ones less often, then TIES' sign election.
#include "methods/task_arithmetic_family.hpp"

namespace wasmerge {

const MergeMethod& della_method() {
  static const TaskArithmeticFamily method([] {
    TaskArithmeticFamily::Definition d;
    d.name = "della";
    d.title = "DELLA";
    d.url = "https://arxiv.org/abs/2406.11617";
    d.summary =
        "Drops task-vector entries at random, the larger ones (by magnitude rank within their row) less often "
        "(MagPrune), rescales the rest, then elects a sign per weight and averages the agreeing models.";
    d.formula =
        "δₖ = mₖ − b, keep with p = density − ε + 2ε·rank/(cols − 1) per row, rescale;  γ = sign(Σ wₖ·δₖ);  result = b "
        "+ λ·Σ[sign = γ] wₖ·δₖ / Σ[sign = γ] wₖ";
    d.card_link = "[DELLA](https://arxiv.org/abs/2406.11617)";
    d.sparsify = &magprune_rule();
    d.consensus = true;
    d.default_normalize = true;
    d.default_rescale = true;
    return d;
  }());
  return method;
}

}  // namespace wasmerge
