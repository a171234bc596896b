#pragma once
// The generalized task arithmetic family (SPEC §2), mergekit's one parameterized method:
// per model, δ_k = m_k − b is sparsified (magnitude trim, random drop or neither),
// rescaled, weighted; then either summed (divided by Σw when normalizing) or merged by
// sign election; the result is b + λ·mixed. Without a base (linear) the models' own
// values take δ's place and the mix is the result. Each member is one small file
// (linear.cpp, task_arithmetic.cpp, ties.cpp, dare_linear.cpp, dare_ties.cpp,
// breadcrumbs.cpp, breadcrumbs_ties.cpp, della.cpp, della_linear.cpp) that fills in a
// Definition; a sparsify rule brings its own per-model parameters (gamma, epsilon).
#include <string>
#include <vector>

#include "passes/sparsifier.hpp"
#include "wasmerge/method.hpp"

namespace wasmerge {

class TaskArithmeticFamily : public MergeMethod {
 public:
  struct Definition {
    std::string name, title, url, summary, formula, card_link;
    bool base = true;                        // linear: false
    const SparsifyRule* sparsify = nullptr;  // none: every entry stays
    bool consensus = false;                  // TIES' sign election
    bool default_normalize = false;
    bool default_rescale = false;
    bool weight_required = true;
  };
  explicit TaskArithmeticFamily(Definition d);

  std::string_view name() const override { return d_.name; }
  std::string_view title() const override { return d_.title; }
  std::string_view url() const override { return d_.url; }
  std::string_view summary() const override { return d_.summary; }
  std::string_view formula() const override { return d_.formula; }
  std::string card_link() const override { return d_.card_link; }
  const std::vector<ParamSpec>& params() const override { return params_; }
  bool needs_base() const override { return d_.base; }
  std::vector<Fact> needs() const override;
  std::vector<std::string> stages() const override;
  std::unique_ptr<TensorMerge> bind(const OutputTensor& out) const override;
  void check(const OutputTensor& out) const override;

  const Definition& definition() const { return d_; }

 private:
  Definition d_;
  std::vector<ParamSpec> params_;
};

}  // namespace wasmerge
