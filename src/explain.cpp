#include "explain.hpp"

#include <algorithm>

namespace wasmerge {

Explanation::Explanation(const ExplainRequest& request, const MergeMethod& method, size_t models,
                         uint64_t tensor_elements)
    : tensor_(request.tensor),
      method_(method.name()),
      order_(method.stages()),
      offset_(std::min(request.offset, tensor_elements)),
      count_(static_cast<size_t>(std::min<uint64_t>(request.count, tensor_elements - offset_))) {
  for (const auto& name : order_) {  // laid out before the pool's threads write into them
    Stage& s = stages_[name];
    s.rows.assign(models, std::vector<float>(count_));
    s.merged.assign(count_, 0.0f);
  }
}

void Explanation::copy_window(std::vector<float>& into, uint64_t first, const float* values, size_t n) {
  const uint64_t begin = std::max(first, offset_), end = std::min(first + n, offset_ + count_);
  for (uint64_t i = begin; i < end; ++i) into[i - offset_] = values[i - first];
}

void Explanation::capture(std::string_view stage, int model, uint64_t first, const float* values, size_t n) {
  auto it = stages_.find(stage);
  if (it == stages_.end()) return;  // a stage the method does not list
  Stage& s = it->second;
  if (model < 0) {
    s.whole = true;
    copy_window(s.merged, first, values, n);
  } else {
    s.per_model = true;
    copy_window(s.rows[static_cast<size_t>(model)], first, values, n);
  }
}

std::string Explanation::to_json() const {
  nlohmann::ordered_json j = {{"event", "explain"}, {"tensor", tensor_}, {"offset", offset_},
                              {"count", count_},    {"method", method_}, {"stages", order_}};
  for (const auto& name : order_) {
    const Stage& s = stages_.at(name);
    if (s.per_model)
      j[name] = s.rows;
    else if (s.whole)
      j[name] = s.merged;
  }
  for (const auto& [key, value] : extras_.items()) j[key] = value;
  return j.dump();
}

}  // namespace wasmerge
