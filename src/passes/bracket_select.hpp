#pragma once
// The exact cut of a magnitude selection (the keep-th largest |x|, sparsify.hpp) in one
// pass instead of two radix tallies. A sample gives a bracket [lo, hi] of |x| bit patterns
// that very likely holds the cut; one pass counts the entries above hi and collects the
// patterns inside the bracket, chunk by chunk in tensor order; an exact select among the
// collected gives the cut, and their chunk order how many ties each chunk holds (what a
// masking pass needs to keep ties in index order) without another pass. When the bracket
// misses (the sample was unlike the rest) or collects more than its memory, the caller
// falls back to the radix tallies: the sample decides only how fast, never the cut.
#include <cstdint>
#include <vector>

#include "wasmerge/dtype.hpp"
#include "wasmerge/sparsify.hpp"

namespace wasmerge {

struct Bracket {
  uint32_t lo = 0, hi = 0xFFFFFFFFu;  // inclusive
};

// A bracket around the keep-th largest of n values, from a sample of their bit patterns:
// wide enough that a uniform sample misses it only beyond five standard deviations.
Bracket bracket_from_sample(std::vector<uint32_t> sample, uint64_t keep, uint64_t n);

// One chunk's share of the pass. The patterns inside are kept as distinct values with
// counts while a chunk has few of them (task vectors of bf16 models hold many equal
// entries: the cut's ties alone can be a few percent of a tensor), else one by one.
struct BracketPart {
  uint64_t above = 0;            // patterns above the bracket
  std::vector<uint32_t> values;  // patterns inside it
  std::vector<uint32_t> counts;  // how many entries each value stands for; empty: one each
  bool nonfinite = false;        // some pattern is a NaN's or an infinity's
  uint32_t count(size_t i) const { return counts.empty() ? 1 : counts[i]; }
};
BracketPart scan_bracket(const Bracket& bracket, const float* values, size_t n);
// The same for one model's values as read: |to_f32(raw) − base| (base: null for none).
BracketPart scan_bracket(const Bracket& bracket, DType t, const uint8_t* raw, const float* base, size_t n);

class BracketCollect {
 public:
  BracketCollect(Bracket bracket, uint64_t keep, uint64_t max_values)
      : bracket_(bracket), keep_(keep), max_values_(max_values) {}

  const Bracket& bracket() const { return bracket_; }
  // Chunks in tensor order, every one of them.
  void add(const BracketPart& part);
  uint64_t inside() const { return inside_; }  // entries inside the bracket
  // Whether the cut is inside the bracket (and the bracket stayed within its memory).
  bool hit() const;
  MagnitudeCut cut() const;  // when hit()
  // How many entries of each chunk equal the cut's threshold.
  std::vector<uint64_t> ties_per_chunk(uint32_t threshold) const;

 private:
  Bracket bracket_;
  uint64_t keep_, max_values_;
  uint64_t above_ = 0, inside_ = 0;
  bool overflow_ = false;
  std::vector<uint32_t> values_, counts_;  // every chunk's, one after another
  std::vector<uint64_t> chunk_end_;        // per chunk: where its values end
};

}  // namespace wasmerge
