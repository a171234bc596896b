// task_arithmetic: the base plus the weighted sum of the task vectors.
#include "methods/task_arithmetic_family.hpp"

namespace wasmerge {

const MergeMethod& task_arithmetic_method() {
  static const TaskArithmeticFamily method([] {
    TaskArithmeticFamily::Definition d;
    d.name = "task_arithmetic";
    d.title = "Task arithmetic";
    d.url = "https://arxiv.org/abs/2212.04089";
    d.summary = "Adds the weighted task vectors (model − base) to the base: b + λ·Σ w·δ.";
    d.formula = "δₖ = mₖ − b;  result = b + λ·Σ wₖ·δₖ";
    d.card_link = "[task arithmetic](https://arxiv.org/abs/2212.04089)";
    return d;
  }());
  return method;
}

}  // namespace wasmerge
