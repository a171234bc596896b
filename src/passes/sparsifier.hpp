#pragma once
// Which entries of each task vector survive (SPEC §2's "sparsify" column), as an object
// the task arithmetic family holds per output tensor: the passes it needs to find its
// masks, and the mask of one chunk. One file per rule in src/passes/; the family's methods
// pick one, and a rule brings the per-model parameters it reads beyond density.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/block_pipeline.hpp"
#include "wasmerge/kernels.hpp"
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
  // Chunks of whole rows of this many elements, when its mask is per row (0: any chunks).
  virtual uint64_t row_length() const { return 0; }
  // Runs its passes; masked_twice: an L1 pass will mask before the write does.
  virtual void prepare(BlockPipeline&, bool /*masked_twice*/) {}
  // The ordered count its mask reads (Chunk::before), or null.
  virtual const OrderedCount* order() const { return nullptr; }
  // Zeroes the entries of model k's δ that this chunk drops.
  virtual void mask(const Chunk& chunk, size_t k, float* delta) const = 0;
  // When this chunk's mask of model k is one the election applies on the way
  // (weigh_elect_and_merge: a threshold on |δ| bits, or recorded kept bits), sets it in
  // `into` and returns true; else the caller calls mask. delta is null when the chunk's
  // δ are not converted: then it folds only a mask that needs no value.
  virtual bool fold_mask(const Chunk&, size_t /*k*/, const float* /*delta*/, WeighedDelta& /*into*/) const {
    return false;
  }
  // Σ|δ| and Σ|kept δ| of model k's chunk (the L1 pass's norms), leaving δ as it is, as
  // a masking pass (recording what a later one replays); false: not offered, the caller
  // masks a copy of its own.
  virtual bool kept_abs_sums(const Chunk&, size_t /*k*/, const float* /*delta*/, double* /*all*/,
                             double* /*kept*/) const {
    return false;
  }
  // kept_abs_sums also takes a chunk whose models are not converted (Chunk::converted):
  // it reads their bytes instead (delta is then not to be read).
  virtual bool sums_as_read() const { return false; }
  // A masking pass is over (the next one may replay what this one recorded).
  virtual void pass_done() {}
};

// The per-tensor facts a rule needs from its output tensor.
struct SparsifyInput {
  uint64_t elements = 0;
  uint64_t row_length = 0;                  // the last dimension (a 1-D tensor is one row)
  std::vector<double> densities;            // per model
  std::vector<std::vector<double>> params;  // per model: the values of the rule's own params, in order
  std::vector<uint64_t> dare_streams;       // per model: the counter generator's stream (SPEC §2)
};

struct SparsifyRule {
  std::string name;               // magnitude, random, outliers, magprune
  std::vector<Fact> needs;        // for the catalogue
  std::vector<ParamSpec> params;  // per-model parameters of its own (breadcrumbs' gamma, DELLA's epsilon)
  std::unique_ptr<Sparsifier> (*make)(const SparsifyInput&);
  // What is wrong with one model's density and own params for one tensor, or "" (DELLA:
  // density ± epsilon must stay inside (0, 1)).
  std::string (*check)(double density, const std::vector<double>& params) = nullptr;
};

const SparsifyRule& magnitude_rule();  // TIES' trim (magnitude_trim.cpp)
const SparsifyRule& random_rule();     // DARE's drop (random_drop.cpp)
const SparsifyRule& outliers_rule();   // breadcrumbs' two cuts (outlier_trim.cpp)
const SparsifyRule& magprune_rule();   // DELLA's per-row ranked drop (magprune.cpp)

}  // namespace wasmerge
