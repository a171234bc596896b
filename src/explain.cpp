#include "wasmerge/explain.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "wasmerge/kernels.hpp"

namespace wasmerge {

Explanation::Explanation(const ExplainRequest& request, const std::string& method, size_t models,
                         uint64_t tensor_elements)
    : tensor_(request.tensor), method_(method), offset_(std::min(request.offset, tensor_elements)),
      count_(static_cast<size_t>(std::min<uint64_t>(request.count, tensor_elements - offset_))),
      delta_(models, std::vector<float>(count_)), kept_(delta_), weighted_(delta_), mixed_(count_), result_(count_) {}

void Explanation::copy_window(std::vector<float>& into, uint64_t first, const float* values, size_t n) {
  const uint64_t begin = std::max(first, offset_), end = std::min(first + n, offset_ + count_);
  for (uint64_t i = begin; i < end; ++i) into[i - offset_] = values[i - first];
}

void Explanation::capture(Stage stage, size_t model, uint64_t first, const float* values, size_t n) {
  auto& rows = stage == Stage::Delta ? delta_ : stage == Stage::Kept ? kept_ : weighted_;
  copy_window(rows[model], first, values, n);
}

void Explanation::capture_mixed(uint64_t first, const float* values, size_t n) { copy_window(mixed_, first, values, n); }
void Explanation::capture_result(uint64_t first, const float* values, size_t n) { copy_window(result_, first, values, n); }

std::string Explanation::to_json(bool consensus) const {
  nlohmann::ordered_json j = {{"event", "explain"}, {"tensor", tensor_}, {"offset", offset_}, {"count", count_},
                              {"method", method_}, {"delta", delta_},   {"kept", kept_},     {"weighted", weighted_}};
  if (consensus) {  // the election, by the kernel's own rule, from the weighted vectors
    std::vector<int> sign(count_);
    std::vector<std::vector<int>> agree(weighted_.size(), std::vector<int>(count_));
    for (size_t i = 0; i < count_; ++i) {
      float sum = weighted_[0][i];
      for (size_t k = 1; k < weighted_.size(); ++k) sum = sum + weighted_[k][i];
      const bool positive = elected_positive(sum);
      sign[i] = positive ? 1 : -1;
      for (size_t k = 0; k < weighted_.size(); ++k) agree[k][i] = agrees_with(weighted_[k][i], positive);
    }
    j["sign"] = sign;
    j["agree"] = agree;
  }
  j["mixed"] = mixed_;
  j["result"] = result_;
  return j.dump();
}

}  // namespace wasmerge
