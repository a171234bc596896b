#pragma once
// The plan's mapping stage: which input tensors each output tensor is made from.
//   `models:`  every tensor of the reference model (base_model, else the first model) from
//              its namesake in every model, in the reference's order;
//   `slices:`  SPEC §5: pre-weights from the first slice, layers renumbered by a running
//              counter over the slices, template by template, post-weights from the last.
#include <string>
#include <vector>

#include "wasmerge/plan.hpp"

namespace wasmerge {

struct MappedTensor {
  std::string name;                        // the output's
  size_t slice = 0;                        // whose parameters apply
  double t = 0;                            // position in the slice, for gradients
  const ModelTensor* reference = nullptr;  // shape, dtype and bytes of copies come from it
  const ModelTensor* base = nullptr;       // when the method takes a base
  std::vector<const ModelTensor*> inputs;  // one per slice source, in order
};

struct LayerMap {
  const Model* donor = nullptr;  // config.json: base_model, else the first slice's first source
  std::vector<MappedTensor> tensors;
  std::vector<LayerRun> runs;
  int output_layers = 0;
  std::vector<int> layer_map;  // output layer -> the layer of its slice's reference source
  bool layers_changed = false;
  std::vector<std::string> warnings;
};

LayerMap map_tensors(const MergePlan& plan);

}  // namespace wasmerge
