#include "wasmerge/parameter.hpp"

#include <cmath>
#include <algorithm>

namespace wasmerge {

double interpolate_gradient(const std::vector<double>& v, double t) {
  if (v.size() == 1) return v[0];
  const double x = t * static_cast<double>(v.size() - 1);
  const size_t i0 = static_cast<size_t>(std::floor(x));
  const size_t i1 = std::min(v.size() - 1, i0 + 1);
  const double frac = x - static_cast<double>(i0);
  return (1 - frac) * v[std::min(i0, v.size() - 1)] + frac * v[i1];
}

std::optional<double> Parameter::resolve(const std::string& tensor, double t) const {
  if (filtered.empty()) return interpolate_gradient(values, t);
  for (const auto& entry : filtered)
    if (entry.filter.empty() || entry.filter == "*" || tensor.find(entry.filter) != std::string::npos)
      return entry.value.resolve(tensor, t);
  return std::nullopt;
}

std::vector<double> Parameter::all_values() const {
  std::vector<double> out = values;
  for (const auto& entry : filtered) {
    auto inner = entry.value.all_values();
    out.insert(out.end(), inner.begin(), inner.end());
  }
  return out;
}

}  // namespace wasmerge
