#pragma once
// The dot products of a tensor's vectors — every ⟨x_i, x_j⟩, norms included — that the
// spherical methods (slerp, nuslerp, multislerp, karcher) and model_stock need before
// they can write a tensor (SPEC §6). Over the whole flattened tensor, or per group of
// elements: each row of the last dimension (nuslerp without flatten, model_stock's
// filter_wise) or each vector along the first dimension (nuslerp's row_wise).
//
// One pass: f64 sums per chunk (products of f32 are exact in f64), folded in chunk order,
// so the sums have the same bits for any thread count, budget and build. Memory: one
// matrix per group, so a row mode keeps n/row_length of them, never the tensor.
#include <cstdint>
#include <functional>
#include <vector>

#include "pipeline/block_pipeline.hpp"

namespace wasmerge {

struct Grouping {
  enum class Kind { Whole, Rows, Columns };
  Kind kind = Kind::Whole;
  uint64_t size = 1;  // Rows: elements per row; Columns: the stride between a vector's elements

  static Grouping whole() { return {}; }
  static Grouping rows_of(const std::vector<uint64_t>& shape);     // vectors along the last dimension
  static Grouping columns_of(const std::vector<uint64_t>& shape);  // vectors along the first dimension
  uint64_t groups(uint64_t elements) const;
  uint64_t group_of(uint64_t index) const;
  // How many elements from `index` on stay in its group, stopping at `limit` (a column's
  // neighbour is in the next column: 1).
  uint64_t run_from(uint64_t index, uint64_t limit) const;
};

// The chunk's vectors, in the order the matrices index them.
using VectorPick = std::function<void(const Chunk&, std::vector<const float*>&)>;

class GramMatrices {
 public:
  GramMatrices(Grouping grouping, size_t vectors, uint64_t elements);

  void compute(BlockPipeline& pipeline, const VectorPick& pick);

  uint64_t groups() const { return groups_; }
  size_t vectors() const { return vectors_; }
  // ⟨x_i, x_j⟩ over one group's elements.
  double at(uint64_t group, size_t i, size_t j) const;

 private:
  size_t pair(size_t i, size_t j) const;  // index in the upper triangle, diagonal included
  void chunk_sums(const Chunk& chunk, const std::vector<const float*>& x, uint64_t first_group,
                  std::vector<double>& sums) const;

  Grouping grouping_;
  size_t vectors_, pairs_;
  uint64_t groups_;
  std::vector<double> sums_;  // [group][pair]
};

}  // namespace wasmerge
