#pragma once
// One decoder layer over every token of every sequence at once, and the checks on the
// tensors it reads.
#include <string>
#include <vector>

#include "decoder/attention.hpp"
#include "wasmerge/decoder.hpp"

namespace wasmerge {
namespace decoder {

// The tensor `name` with shape `dims` and a float dtype; otherwise an error naming it.
const ModelTensor& decoder_tensor(const Model& model, const std::string& name, const std::vector<uint64_t>& dims);

// Checks every tensor layer `layer` reads, before anything runs.
void check_layer_tensors(const Model& model, const DecoderShape& shape, int layer);

struct LayerRun {
  const Model& model;
  const DecoderShape& shape;
  ThreadPool& pool;
  uint64_t budget;
  const std::vector<SequenceSpan>& sequences;
  const RopeTable& rope;
  size_t tokens;
};

// x [tokens, hidden] ← layer `layer`(x): attention then MLP, each with its residual.
void run_layer(const LayerRun& run, int layer, std::vector<float>& x);

}  // namespace decoder
}  // namespace wasmerge
