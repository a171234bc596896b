// breadcrumbs_ties: breadcrumbs' trim, then TIES' sign election.
#include "methods/task_arithmetic_family.hpp"

namespace wasmerge {

const MergeMethod& breadcrumbs_ties_method() {
  static const TaskArithmeticFamily method([] {
    TaskArithmeticFamily::Definition d;
    d.name = "breadcrumbs_ties";
    d.title = "Model Breadcrumbs with TIES";
    d.url = "https://arxiv.org/abs/2312.06795";
    d.summary =
        "Drops each task vector's smallest entries and largest outliers (Model Breadcrumbs), then elects a sign per "
        "weight and adds only the models that agree with it (TIES).";
    d.formula =
        "δₖ = mₖ − b, keep |δₖ| ranks in [n − floor(density·n) − floor(γ·n), n − floor(γ·n));  γₑ = sign(Σ wₖ·δₖ);  "
        "result = b + λ·Σ[sign = γₑ] wₖ·δₖ";
    d.card_link = "[Model Breadcrumbs with TIES](https://arxiv.org/abs/2312.06795)";
    d.sparsify = &outliers_rule();
    d.consensus = true;
    d.default_normalize = false;
    d.default_rescale = false;
    return d;
  }());
  return method;
}

}  // namespace wasmerge
