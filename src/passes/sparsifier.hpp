#pragma once
// Which entries of each task vector survive (SPEC §2's "sparsify" column), as an object
// the task arithmetic family holds per output tensor: the passes it needs to find its
// masks, and the mask of one chunk. One file per rule in src/passes/; a new rule (two
// magnitude cuts, per-row ranks) is one more, and the family's methods pick it by name.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/block_pipeline.hpp"
#include "wasmerge/method.hpp"

namespace wasmerge {

class Sparsifier {
 public:
  virtual ~Sparsifier() = default;
  // Passes of its own before any mask is known (TIES: selecting the cuts).
  virtual bool has_passes() const { return false; }
  // State it keeps per element when the masks are applied in two passes of a tensor
  // kept in memory (DARE: its draws, replayed instead of drawn again).
  virtual uint64_t bytes_per_element() const { return 0; }
  // Runs its passes; masked_twice: an L1 pass will mask before the write does.
  virtual void prepare(BlockPipeline&, bool /*masked_twice*/) {}
  // The ordered count its mask reads (Chunk::before), or null.
  virtual const OrderedCount* order() const { return nullptr; }
  // Zeroes the entries of model k's δ that this chunk drops.
  virtual void mask(const Chunk& chunk, size_t k, float* delta) const = 0;
  // A masking pass is over (the next one may replay what this one recorded).
  virtual void pass_done() {}
};

// The per-tensor facts a rule needs from its output tensor.
struct SparsifyInput {
  uint64_t elements = 0;
  std::vector<double> densities;       // per model
  std::vector<uint64_t> dare_streams;  // per model: the counter generator's stream (SPEC §2)
};

struct SparsifyRule {
  std::string name;         // magnitude, random
  std::vector<Fact> needs;  // for the catalogue
  std::unique_ptr<Sparsifier> (*make)(const SparsifyInput&);
};

const SparsifyRule& magnitude_rule();  // TIES' trim (magnitude_cuts.cpp)
const SparsifyRule& random_rule();     // DARE's drop (random_drop.cpp)

}  // namespace wasmerge
