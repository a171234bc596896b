#pragma once
// A method whose catalogue entry is plain data: the methods outside the task arithmetic
// family fill in a Description and write only bind().
#include <string>
#include <vector>

#include "wasmerge/method.hpp"

namespace wasmerge {

struct Description {
  std::string name, title, url, summary, formula;
  std::vector<ParamSpec> params;
  ModelCount models;
  bool needs_base = false;
  bool takes_base = false;  // an optional base: used when the config names one
  std::vector<Fact> needs;
};

class DescribedMethod : public MergeMethod {
 public:
  explicit DescribedMethod(Description d) : d_(std::move(d)) {}
  std::string_view name() const override { return d_.name; }
  std::string_view title() const override { return d_.title; }
  std::string_view url() const override { return d_.url; }
  std::string_view summary() const override { return d_.summary; }
  std::string_view formula() const override { return d_.formula; }
  const std::vector<ParamSpec>& params() const override { return d_.params; }
  ModelCount models() const override { return d_.models; }
  bool needs_base() const override { return d_.needs_base; }
  bool takes_base() const override { return d_.needs_base || d_.takes_base; }
  std::vector<Fact> needs() const override { return d_.needs; }

 protected:
  double global(const OutputTensor& out, const std::string& param) const;  // the tensor's value or the default
  double per_model(const OutputTensor& out, size_t input, const std::string& param) const;

 private:
  Description d_;
};

}  // namespace wasmerge
