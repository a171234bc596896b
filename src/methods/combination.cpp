#include "methods/combination.hpp"

#include <algorithm>
#include <cmath>

#include "pipeline/block_pipeline.hpp"
#include "wasmerge/kernels.hpp"
#include "wasmerge/plan.hpp"

namespace wasmerge {

double GramView::norm(size_t i) const { return std::sqrt(std::max(at(i, i), 0.0)); }

double GramView::inner(const std::vector<double>& a, const std::vector<double>& b) const {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = 0; j < b.size(); ++j) s += a[i] * b[j] * at(i, j);
  return s;
}

CombinationMerge::CombinationMerge(const OutputTensor& out, Vectors vectors, Grouping grouping, CoefficientRule rule)
    : out_(out), vectors_(vectors), grouping_(grouping), rule_(std::move(rule)) {}

PipelineNeeds CombinationMerge::needs() const {
  PipelineNeeds n;
  n.task_vectors = vectors_ == Vectors::TaskVectors;
  n.several_passes = true;  // the Gram pass, then the write
  return n;
}

size_t CombinationMerge::vector_count() const {
  return out_.inputs.size() + (vectors_ == Vectors::BaseAndModels ? 1 : 0);
}

void CombinationMerge::pick(const Chunk& chunk, std::vector<const float*>& x) const {
  x.clear();
  if (vectors_ == Vectors::BaseAndModels) x.push_back(chunk.base);
  for (size_t k = 0; k < chunk.model_count; ++k) x.push_back(chunk.models[k]);
}

void CombinationMerge::prepare(BlockPipeline& pipeline) {
  GramMatrices gram(grouping_, vector_count(), pipeline.elements());
  gram.compute(pipeline, [this](const Chunk& chunk, std::vector<const float*>& x) { pick(chunk, x); });
  const size_t V = vector_count();
  coefficients_.assign(gram.groups() * V, 0.0f);
  for (uint64_t g = 0; g < gram.groups(); ++g) {
    const std::vector<double> c = rule_(GramView{gram, g});
    for (size_t j = 0; j < V; ++j) coefficients_[g * V + j] = static_cast<float>(c[j]);
  }
}

void CombinationMerge::combine_run(const std::vector<const float*>& x, const float* base, const float* c, size_t from,
                                   size_t n, float* out, float* mixed) const {
  float* sum = base ? mixed + from : out + from;
  scale_into(sum, x[0] + from, c[0], n);
  for (size_t j = 1; j < x.size(); ++j) add_scaled(sum, x[j] + from, c[j], n);
  if (base) add_lambda_times(out + from, base + from, sum, 1.0f, n);  // b + Σ c_j·δ_j
}

void CombinationMerge::combine(Chunk& chunk, float* out) const {
  std::vector<const float*> x;
  pick(chunk, x);
  const size_t V = x.size();
  const float* base = vectors_ == Vectors::TaskVectors ? chunk.base : nullptr;
  if (grouping_.kind == Grouping::Kind::Columns) {
    for (size_t e = 0; e < chunk.count; ++e) {  // neighbours belong to different groups
      const float* c = coefficients_.data() + grouping_.group_of(chunk.first + e) * V;
      float sum = c[0] * x[0][e];
      for (size_t j = 1; j < V; ++j) {
        const float term = c[j] * x[j][e];
        sum = sum + term;
      }
      out[e] = base ? base[e] + sum : sum;
    }
  } else {
    size_t e = 0;
    while (e < chunk.count) {
      const uint64_t group = grouping_.group_of(chunk.first + e);
      const size_t run = static_cast<size_t>(grouping_.run_from(chunk.first + e, chunk.first + chunk.count));
      combine_run(x, base, coefficients_.data() + group * V, e, run, out, chunk.scratch);
      e += run;
    }
  }
  chunk.observe("result", -1, out);
}

}  // namespace wasmerge
