#pragma once
// Exact selections by magnitude over a whole tensor (SPEC §2, §6): each selection keeps the
// `keep` entries of largest |x| of one series of values, ties ordered by index (to the
// lower index, as TIES, or to the higher, as breadcrumbs' ascending ranks). A series is a
// model's δ by default, or values a method derives per chunk (sce: the variance across
// models; arcee_fusion: the importance). Each cut is found in one pass that collects the
// entries inside a bracket from a sample (bracket_select.hpp), else by an exact radix
// select (sparsify.hpp): two tally passes over the |x| bit patterns; directly for a tensor
// of one chunk. Masking a chunk needs how many entries equal to a cut precede it, which
// this class provides as the pipeline's ordered count: known per chunk from the bracket's
// pass, else counted by the masking pass.
#include <cstdint>
#include <functional>
#include <vector>

#include "passes/bracket_select.hpp"
#include "pipeline/block_pipeline.hpp"
#include "wasmerge/sparsify.hpp"

namespace wasmerge {

class MagnitudeCuts : public OrderedCount {
 public:
  struct Selection {
    size_t source = 0;            // which series
    uint64_t keep = 0;            // entries kept: the largest |x|
    bool ties_to_higher = false;  // at equal |x| the higher index ranks higher (else the lower)
    bool exact = false;           // the threshold is wanted even when every entry is kept
  };
  // A chunk's values of series `source`: a pointer into the chunk, or `buffer` (capacity
  // floats) filled with derived values. Called from the pool's threads.
  using Series = std::function<const float*(const Chunk&, size_t source, float* buffer)>;

  // One selection per model: floor(d_k·n) entries of model k's δ, ties to the lower index (TIES).
  MagnitudeCuts(const std::vector<double>& densities, uint64_t elements);
  MagnitudeCuts(std::vector<Selection> selections, uint64_t elements, Series series = nullptr);

  bool needs_select() const;  // some cut is neither "keep all" nor "keep none"
  void select(BlockPipeline& pipeline);
  // The ordered count a masking pass reads, or null when no cut splits a tie.
  const OrderedCount* ties() const;
  const MagnitudeCut& cut(size_t s) const { return cuts_[s]; }
  float threshold_value(size_t s) const;  // the cut's |x| as a float

  // The chunk's values of a series (see Series), in a buffer of this thread's own.
  const float* values(const Chunk& chunk, size_t source) const;
  // Zeroes what selection s drops from `values`, the chunk's values of its series.
  void mask(const Chunk& chunk, size_t s, float* values) const;
  // Selection s's mask of the chunk as one threshold, when it is one (magnitude_min_bits);
  // values may be null (not converted) where the chunk's ties were counted.
  bool min_kept_bits(const Chunk& chunk, size_t s, const float* values, uint32_t* min_bits) const;
  // Flags (1: kept) of selection s for the chunk's values of its series.
  void flags(const Chunk& chunk, size_t s, const float* values, uint8_t* kept) const;

  size_t counters() const override { return cuts_.size(); }
  void count(const Chunk& chunk, uint64_t* counts) const override;
  bool reads_values() const override { return chunk_ties_.empty(); }

 private:
  void select_one_chunk(BlockPipeline& pipeline);
  bool bracket_pass(BlockPipeline& pipeline);  // false: a bracket missed, nothing changed
  void tally_pass(BlockPipeline& pipeline, int level);
  uint64_t ties_before(const Chunk& chunk, size_t s) const { return chunk.before ? chunk.before[s] : 0; }

  uint64_t elements_;
  std::vector<Selection> selections_;
  Series series_;
  std::vector<RadixSelect> select_;
  std::vector<MagnitudeCut> cuts_;
  std::vector<std::vector<uint64_t>> chunk_ties_;  // per selection, per chunk: entries equal to its cut
};

}  // namespace wasmerge
