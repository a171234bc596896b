// libFuzzer target: the input is one .safetensors file, used as the base and as a model
// of a merge, and sliced as a layer stack. It drives the header parser, the plan (the
// layer map included) and the engine end to end; any
// outcome but a result or a MergeError (a crash, a sanitizer report, another exception)
// is a bug.   Build: cmake -DWASMERGE_FUZZ=ON with clang++ (see scripts/test.sh).
#include "fuzz_files.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/merge.hpp"
#include "wasmerge/safetensors.hpp"


extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Source source("fuzz.safetensors", data, size);
  try {
    wasmerge::read_safetensors_header(source);
  } catch (const wasmerge::MergeError&) {
    return 0;
  }
  fuzz::Inputs inputs;
  inputs.add("base.safetensors", data, size);
  inputs.add("a.safetensors", data, size);
  fuzz::Outputs outputs;
  wasmerge::MergeOptions options;
  options.threads = 1;
  options.memory_mb = 4;
  const std::string models =
      R"("base_model":"base.safetensors","allow_nonfinite":true,"models":[{"model":"a.safetensors","parameters":{"weight":0.5,"density":0.5}}]})";
  // Whatever layers the file has: the first two stacked on layers 1..3 (depth up-scaling).
  const std::string slices = R"("allow_nonfinite":true,"slices":[{"sources":[{"model":"a.safetensors","layer_range":[0,2]}]},
      {"sources":[{"model":"a.safetensors","layer_range":[1,3],"parameters":{"scale":0.5}}]}]})";
  for (const std::string& config : {R"({"merge_method":"ties",)" + models, R"({"merge_method":"dare_linear",)" + models,
                                   R"({"merge_method":"passthrough",)" + slices}) {
    try {
      wasmerge::run_merge(config, options, inputs, outputs);
    } catch (const wasmerge::MergeError&) {
    }
  }
  return 0;
}
