#include "methods/described_method.hpp"

#include "wasmerge/plan.hpp"

namespace wasmerge {

double DescribedMethod::global(const OutputTensor& out, const std::string& name) const {
  return out.params.number(*param(name));
}

double DescribedMethod::per_model(const OutputTensor& out, size_t input, const std::string& name) const {
  return out.inputs[input].params.number(*param(name));
}

}  // namespace wasmerge
