#include "analysis.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "passes/magnitude_cuts.hpp"
#include "tensor_executor.hpp"

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

namespace {

constexpr double kDefaultReportDensity = 0.2;

// The counts of one chunk: |δ| by binade, zeros, sign conflicts, top-k intersections.
TensorReport chunk_report(const Chunk& chunk, const MagnitudeCuts& cuts) {
  const size_t models = chunk.model_count, n = chunk.count, stride = chunk.capacity;
  TensorReport r;
  r.abs_delta_hist.assign(models, std::vector<uint64_t>(TensorReport::kBins, 0));
  r.zero.assign(models, 0);
  r.topk_both.assign(models, std::vector<uint64_t>(models, 0));
  for (size_t k = 0; k < models; ++k)
    for (size_t i = 0; i < n; ++i) {
      const uint32_t bits = magnitude_bits(chunk.models[k][i]);
      if (bits == 0) {
        ++r.zero[k];
        continue;
      }
      const int binade = static_cast<int>(bits >> 23) - 127;  // floor(log2 |δ|) for normal floats
      ++r.abs_delta_hist[k][std::clamp(binade - TensorReport::kMinLog2, 0, TensorReport::kBins - 1)];
    }
  for (size_t i = 0; i < n; ++i) {
    bool positive = false, negative = false;
    for (size_t k = 0; k < models; ++k) {
      positive |= chunk.models[k][i] > 0.0f;
      negative |= chunk.models[k][i] < 0.0f;
    }
    r.sign_conflicts += positive && negative;
  }
  thread_local std::vector<float> kept;
  kept.resize(models * stride);
  for (size_t k = 0; k < models; ++k) {
    std::copy(chunk.models[k], chunk.models[k] + n, kept.data() + k * stride);
    cuts.mask(chunk, k, kept.data() + k * stride);
  }
  for (size_t a = 0; a < models; ++a)
    for (size_t b = a; b < models; ++b) {
      uint64_t both = 0;
      for (size_t i = 0; i < n; ++i) both += kept[a * stride + i] != 0.0f && kept[b * stride + i] != 0.0f;
      r.topk_both[a][b] = r.topk_both[b][a] = both;
    }
  return r;
}

}  // namespace

std::string analyze_tensor(TensorExecutor& executor, const OutputTensor& out, const BlockPipeline::Progress& on_block) {
  const uint64_t n = out.info.num_elements();
  TensorReport report;
  report.tensor = out.info.name;
  report.elements = n;
  const size_t models = out.inputs.size();
  report.abs_delta_hist.assign(models, std::vector<uint64_t>(TensorReport::kBins, 0));
  report.zero.assign(models, 0);
  report.topk_both.assign(models, std::vector<uint64_t>(models, 0));
  for (const auto& in : out.inputs) {
    report.densities.push_back(in.params.given("density").value_or(kDefaultReportDensity));
    report.keep.push_back(magnitude_keep_count(report.densities.back(), n));
  }
  MagnitudeCuts cuts(report.densities, n);
  PipelineNeeds needs;
  needs.task_vectors = true;
  needs.several_passes = cuts.needs_select();
  BlockPipeline pipeline(executor.pool(), executor.buffers(), executor.budget(), out, needs, on_block);
  cuts.select(pipeline);
  std::vector<TensorReport> parts;
  pipeline.visit([&](Chunk& chunk, size_t in_block) { parts[in_block] = chunk_report(chunk, cuts); },
                 [&](size_t chunks) { parts.assign(chunks, TensorReport()); },
                 [&] {
                   for (const auto& part : parts) report.add(part);
                 },
                 cuts.ties());
  return report.to_json();
}

}  // namespace wasmerge
