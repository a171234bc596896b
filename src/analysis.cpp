#include "wasmerge/analysis.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace wasmerge {

void TensorReport::add(const TensorReport& part) {
  for (size_t k = 0; k < abs_delta_hist.size(); ++k) {
    for (int b = 0; b < kBins; ++b) abs_delta_hist[k][b] += part.abs_delta_hist[k][b];
    zero[k] += part.zero[k];
    for (size_t j = 0; j < topk_both.size(); ++j) topk_both[k][j] += part.topk_both[k][j];
  }
  sign_conflicts += part.sign_conflicts;
}

std::string TensorReport::to_json() const {
  const size_t models = abs_delta_hist.size();
  std::vector<std::vector<double>> overlap(models, std::vector<double>(models, 0.0));
  for (size_t a = 0; a < models; ++a)
    for (size_t b = 0; b < models; ++b) {
      const uint64_t k = std::min(keep[a], keep[b]);
      overlap[a][b] = k ? static_cast<double>(topk_both[a][b]) / static_cast<double>(k) : 0.0;
    }
  return nlohmann::ordered_json{{"event", "tensor_report"},
                                {"tensor", tensor},
                                {"elements", elements},
                                {"models", models},
                                {"hist_min_log2", kMinLog2},
                                {"hist_bins", kBins},
                                {"abs_delta_hist", abs_delta_hist},
                                {"zero", zero},
                                {"sign_conflict", elements ? static_cast<double>(sign_conflicts) / elements : 0.0},
                                {"topk_density", densities.empty() ? 0.0 : densities[0]},
                                {"topk_densities", densities},
                                {"topk_overlap", overlap}}
      .dump();
}

}  // namespace wasmerge
