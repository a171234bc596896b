// linear (model soups): the weighted mean of the models, no base.
#include "methods/task_arithmetic_family.hpp"

namespace wasmerge {

const MergeMethod& linear_method() {
  static const TaskArithmeticFamily method([] {
    TaskArithmeticFamily::Definition d;
    d.name = "linear";
    d.title = "Linear";
    d.url = "https://arxiv.org/abs/2203.05482";
    d.summary = "The weighted mean of the models' weights (model soups): Σ w·m / Σ w.";
    d.formula = "result = Σ wₖ·mₖ / Σ wₖ (no division when normalize is off)";
    d.card_link = "[linear](https://arxiv.org/abs/2203.05482)";
    d.base = false;
    d.default_normalize = true;
    d.weight_required = false;
    return d;
  }());
  return method;
}

}  // namespace wasmerge
