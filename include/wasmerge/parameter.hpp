#pragma once
// A parameter as mergekit writes it: a scalar, a gradient over layers, or a list of
// {filter, value} where the first filter found in the tensor name wins. Booleans are
// 1 and 0; a choice (rescale_mode) is its index in the method's list of choices.
#include <optional>
#include <string>
#include <vector>

namespace wasmerge {

struct Parameter {
  struct Filtered;
  std::vector<double> values;        // one value: scalar; several: gradient
  std::vector<Filtered> filtered;    // non-empty: the {filter, value} form

  // The value for a tensor named `tensor` at layer position t ∈ [0, 1];
  // nullopt when a filter list has no entry matching the name.
  std::optional<double> resolve(const std::string& tensor, double t) const;
  // Every number the parameter can take, for range checks before any tensor is read.
  std::vector<double> all_values() const;
};

struct Parameter::Filtered {
  std::string filter;  // empty or "*": matches every tensor
  Parameter value;     // scalar or gradient
};

// Linear interpolation of a gradient at t (SPEC §1): x = t*(n-1), between v[i0] and v[i1].
double interpolate_gradient(const std::vector<double>& v, double t);

}  // namespace wasmerge
