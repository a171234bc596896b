#pragma once
// The prompt routers' vectors (SPEC §7), computed once before the upcycled model is written:
//   cheap_embed             Σ of the base's embedding rows over every prompt token, normalized;
//                           the same for every layer;
//   hidden / hidden_last    the base's hidden state at the input of each layer at each prompt's
//                           last token, averaged over the prompts;
//   hidden_avg              ... averaged over each prompt's tokens, then over the prompts.
// Then v = f(positive) − f(negative) (no negatives: f(positive)), L2-normalized per layer.
// Sums are f64 in prompt and token order, so the vectors are the same in every build.
#include <cstdint>
#include <memory>
#include <vector>

#include "moe/computed_tensors.hpp"
#include "wasmerge/decoder.hpp"
#include "wasmerge/moe_config.hpp"
#include "wasmerge/plan.hpp"

namespace wasmerge {

// One router row's prompts, as token ids (the host tokenized them with the base's tokenizer).
struct SlotPrompts {
  std::vector<std::vector<int32_t>> positive, negative;
};

// Fills table (layers × slots × hidden, allocated here) when run. shape: the base's, for the
// forward pass of the hidden modes.
std::shared_ptr<Precompute> gate_vectors(const Model& base, GateMode mode, const DecoderShape& shape,
                                         std::vector<SlotPrompts> slots, std::shared_ptr<GateTable> table);

}  // namespace wasmerge
