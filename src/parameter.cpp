#include "wasmerge/parameter.hpp"

#include <cmath>
#include <algorithm>
#include <cctype>
#include <cstdlib>

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

std::optional<int> layer_index(const std::string& tensor) {
  for (const char* marker : {"layers.", "h.", "blocks."}) {
    const std::string m = marker;
    for (size_t pos = tensor.find(m); pos != std::string::npos; pos = tensor.find(m, pos + 1)) {
      if (pos != 0 && tensor[pos - 1] != '.') continue;  // "h." must be a whole name part
      size_t digits_end = pos + m.size();
      while (digits_end < tensor.size() && std::isdigit(static_cast<unsigned char>(tensor[digits_end]))) ++digits_end;
      if (digits_end == pos + m.size() || digits_end >= tensor.size() || tensor[digits_end] != '.') continue;
      return std::atoi(tensor.c_str() + pos + m.size());
    }
  }
  return std::nullopt;
}

double layer_position(const std::string& tensor, int n_layers) {
  auto i = layer_index(tensor);
  if (!i) return 0.0;
  if (n_layers <= 1) return 1.0;
  return static_cast<double>(*i) / static_cast<double>(n_layers - 1);
}

}  // namespace wasmerge
