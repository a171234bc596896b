#include "passes/gram.hpp"

#include <algorithm>

#include "wasmerge/kernels.hpp"

namespace wasmerge {

Grouping Grouping::rows_of(const std::vector<uint64_t>& shape) {
  if (shape.size() < 2) return whole();  // a vector is one row
  return {Kind::Rows, std::max<uint64_t>(shape.back(), 1)};
}

Grouping Grouping::columns_of(const std::vector<uint64_t>& shape) {
  if (shape.size() < 2 || shape.front() == 0) return whole();
  uint64_t stride = 1;  // the elements of one index along the first dimension
  for (size_t d = 1; d < shape.size(); ++d) stride *= shape[d];
  return {Kind::Columns, std::max<uint64_t>(stride, 1)};
}

uint64_t Grouping::groups(uint64_t elements) const {
  switch (kind) {
    case Kind::Whole: return 1;
    case Kind::Rows: return std::max<uint64_t>((elements + size - 1) / size, 1);
    case Kind::Columns: return std::min(size, std::max<uint64_t>(elements, 1));
  }
  return 1;
}

uint64_t Grouping::group_of(uint64_t index) const {
  switch (kind) {
    case Kind::Whole: return 0;
    case Kind::Rows: return index / size;
    case Kind::Columns: return index % size;
  }
  return 0;
}

uint64_t Grouping::run_from(uint64_t index, uint64_t limit) const {
  switch (kind) {
    case Kind::Whole: return limit - index;
    case Kind::Rows: return std::min((index / size + 1) * size, limit) - index;
    case Kind::Columns: return 1;
  }
  return 1;
}

GramMatrices::GramMatrices(Grouping grouping, size_t vectors, uint64_t elements)
    : grouping_(grouping),
      vectors_(vectors),
      pairs_(vectors * (vectors + 1) / 2),
      groups_(grouping.groups(elements)),
      sums_(groups_ * pairs_, 0.0) {}

size_t GramMatrices::pair(size_t i, size_t j) const {
  if (i > j) std::swap(i, j);
  return i * vectors_ - i * (i - 1) / 2 + (j - i);  // rows 0..i-1 hold V, V-1, ... pairs
}

double GramMatrices::at(uint64_t group, size_t i, size_t j) const { return sums_[group * pairs_ + pair(i, j)]; }

// This chunk's sums for the groups from first_group on: whole runs of a group through
// dot_sum; a column's elements, one apart from the next by the stride, one by one.
void GramMatrices::chunk_sums(const Chunk& chunk, const std::vector<const float*>& x, uint64_t first_group,
                              std::vector<double>& sums) const {
  if (grouping_.kind == Grouping::Kind::Columns) {
    for (size_t e = 0; e < chunk.count; ++e) {
      double* s = sums.data() + (grouping_.group_of(chunk.first + e) - first_group) * pairs_;
      for (size_t i = 0, p = 0; i < vectors_; ++i)
        for (size_t j = i; j < vectors_; ++j, ++p) s[p] += static_cast<double>(x[i][e]) * static_cast<double>(x[j][e]);
    }
    return;
  }
  size_t e = 0;
  while (e < chunk.count) {
    const uint64_t group = grouping_.group_of(chunk.first + e);
    const size_t run = static_cast<size_t>(grouping_.run_from(chunk.first + e, chunk.first + chunk.count));
    double* s = sums.data() + (group - first_group) * pairs_;
    for (size_t i = 0, p = 0; i < vectors_; ++i)
      for (size_t j = i; j < vectors_; ++j, ++p) s[p] += dot_sum(x[i] + e, x[j] + e, run);
    e += run;
  }
}

void GramMatrices::compute(BlockPipeline& pipeline, const VectorPick& pick) {
  struct Partial {
    uint64_t first_group = 0;
    std::vector<double> sums;
  };
  pipeline.reduce<Partial>(
      [&](Chunk& chunk) {
        Partial p;
        p.first_group = grouping_.group_of(chunk.first);
        uint64_t last = grouping_.group_of(chunk.first + chunk.count - 1);
        if (grouping_.kind == Grouping::Kind::Columns && (last < p.first_group || chunk.count >= grouping_.size)) {
          p.first_group = 0;  // the chunk's columns wrap around: all of them
          last = groups_ - 1;
        }
        p.sums.assign(static_cast<size_t>(last - p.first_group + 1) * pairs_, 0.0);
        std::vector<const float*> x;
        pick(chunk, x);
        chunk_sums(chunk, x, p.first_group, p.sums);
        return p;
      },
      [&](Partial& p) {
        double* into = sums_.data() + p.first_group * pairs_;
        for (size_t i = 0; i < p.sums.size(); ++i) into[i] += p.sums[i];
      });
}

}  // namespace wasmerge
