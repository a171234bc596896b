// breadcrumbs: drop each task vector's smallest entries and its largest outliers, then add them up.
#include "methods/task_arithmetic_family.hpp"

namespace wasmerge {

const MergeMethod& breadcrumbs_method() {
  static const TaskArithmeticFamily method([] {
    TaskArithmeticFamily::Definition d;
    d.name = "breadcrumbs";
    d.title = "Model Breadcrumbs";
    d.url = "https://arxiv.org/abs/2312.06795";
    d.summary =
        "Keeps the middle of each task vector: drops the smallest entries and the few largest outliers (gamma), so "
        "that density of it stays, then adds the weighted task vectors to the base.";
    d.formula =
        "δₖ = mₖ − b, keep |δₖ| ranks in [n − floor(density·n) − floor(γ·n), n − floor(γ·n));  result = b + λ·Σ wₖ·δₖ";
    d.card_link = "[Model Breadcrumbs](https://arxiv.org/abs/2312.06795)";
    d.sparsify = &outliers_rule();
    d.consensus = false;
    d.default_normalize = false;
    d.default_rescale = false;
    return d;
  }());
  return method;
}

}  // namespace wasmerge
