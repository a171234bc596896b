#pragma once
// "What TIES and DARE will do to your models": per tensor, how the task vectors look
// before any merge — the distribution of |δ|, how often models disagree in sign, how
// much their top-k sets overlap. Computed by the engine in streaming passes.
#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/block_pipeline.hpp"

namespace wasmerge {

class TensorExecutor;

struct TensorReport {
  static constexpr int kMinLog2 = -24;  // bin 0 holds |δ| < 2^-23, the last |δ| ≥ 2^7
  static constexpr int kBins = 32;

  std::string tensor;
  uint64_t elements = 0;
  std::vector<std::vector<uint64_t>> abs_delta_hist;  // [model][bin]: |δ| in [2^(min+bin), 2^(min+bin+1))
  std::vector<uint64_t> zero;                         // [model]: δ == 0 exactly
  uint64_t sign_conflicts = 0;  // elements where two models' non-zero δ have opposite signs
  std::vector<double> densities;                      // [model]: d of each top-k set
  std::vector<uint64_t> keep;                         // [model]: k = floor(d·n)
  std::vector<std::vector<uint64_t>> topk_both;       // [a][b]: elements in both top-k sets (non-zero)

  void add(const TensorReport& part);  // sums the counts of a part of the same tensor
  // {"event":"tensor_report", ...}; topk_overlap[a][b] = both / min(k_a, k_b).
  std::string to_json() const;
};

// The report of one mergeable tensor: TIES' trim at each model's density (0.2 when the
// config gives none) for the top-k sets, on the same pipeline a merge uses.
std::string analyze_tensor(TensorExecutor& executor, const OutputTensor& out, const BlockPipeline::Progress& on_block);

}  // namespace wasmerge
