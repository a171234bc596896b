#pragma once
// The shape shared by slerp, nuslerp, multislerp, karcher and model_stock: each result
// is a weighted sum of the tensor's vectors, `result = [b +] Σ_j c_j·x_j`, whose
// coefficients c_j follow from the vectors' dot products alone (a slerp's sin θ terms, a
// Karcher iteration carried out on coefficients, model_stock's t). So a tensor takes two
// passes whatever its size: the Gram matrices (passes/gram.hpp), then the write. With a
// grouping, each row (or column) has coefficients of its own.
//
// The coefficients are computed in f64 and rounded to f32 before they scale a tensor;
// the sum runs over j in order, in f32 without FMA (SPEC §6).
#include <functional>
#include <string>
#include <vector>

#include "passes/gram.hpp"
#include "wasmerge/method.hpp"

namespace wasmerge {

// The vectors x_j of a combination.
enum class Vectors {
  Models,         // the models' own values (no base)
  TaskVectors,    // δ_k = m_k − b, and the result adds b back
  BaseAndModels,  // the base's values, then the models' (slerp's v_0, v_1; karcher's inputs)
};

// One group's dot products, as the coefficient rule reads them.
struct GramView {
  const GramMatrices& gram;
  uint64_t group;
  double at(size_t i, size_t j) const { return gram.at(group, i, j); }
  double norm(size_t i) const;
  size_t size() const { return gram.vectors(); }
  // ⟨Σ a_i x_i, Σ b_j x_j⟩: the dot product of two combinations of the vectors.
  double inner(const std::vector<double>& a, const std::vector<double>& b) const;
};

// The coefficients c_j of one group; may fail() with a message naming the tensor.
using CoefficientRule = std::function<std::vector<double>(const GramView&)>;

class CombinationMerge : public TensorMerge {
 public:
  CombinationMerge(const OutputTensor& out, Vectors vectors, Grouping grouping, CoefficientRule rule);

  PipelineNeeds needs() const override;
  void prepare(BlockPipeline& pipeline) override;
  void combine(Chunk& chunk, float* out) const override;

 private:
  size_t vector_count() const;
  void pick(const Chunk& chunk, std::vector<const float*>& x) const;
  // result[e] for elements [from, from + n) of the chunk, all in one group.
  void combine_run(const std::vector<const float*>& x, const float* base, const float* c, size_t from, size_t n,
                   float* out, float* mixed) const;

  const OutputTensor& out_;
  Vectors vectors_;
  Grouping grouping_;
  CoefficientRule rule_;
  std::vector<float> coefficients_;  // [group][vector]
};

}  // namespace wasmerge
