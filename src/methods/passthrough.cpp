// passthrough: one model's tensors as they are (SPEC §5), optionally scaled: the method of
// layer slices, depth up-scaling and layer removal. Unscaled tensors in their own dtype are
// copied byte for byte.
#include "pipeline/block_pipeline.hpp"
#include "wasmerge/kernels.hpp"
#include "wasmerge/plan.hpp"

namespace wasmerge {
namespace {

class ScaledCopy : public TensorMerge {
 public:
  explicit ScaledCopy(float scale) : scale_(scale) {}
  PipelineNeeds needs() const override { return {}; }
  void combine(Chunk& chunk, float* out) const override { scale_into(out, chunk.models[0], scale_, chunk.count); }

 private:
  float scale_;
};

class Passthrough : public MergeMethod {
 public:
  Passthrough() {
    params_ = {ParamSpec::number("scale", ParamSpec::Scope::PerModel, 1.0)};
  }
  std::string_view name() const override { return "passthrough"; }
  std::string_view title() const override { return "Passthrough"; }
  std::string_view url() const override { return "https://arxiv.org/abs/2312.15166"; }
  std::string_view summary() const override {
    return "Copies one model's tensors unchanged (or times scale): with slices, stacks, removes or reorders layers "
           "(SOLAR's depth up-scaling).";
  }
  std::string_view formula() const override { return "result = scale · m"; }
  std::string card_link() const override { return "passthrough"; }
  const std::vector<ParamSpec>& params() const override { return params_; }
  ModelCount models() const override { return {1, 1}; }
  bool needs_base() const override { return false; }
  std::vector<std::string> stages() const override { return {}; }

  std::optional<size_t> byte_copy(const OutputTensor& out) const override {
    const TensorInput& in = out.inputs[0];
    if (scale(out) == 1.0f && !in.computed && !in.tensor->computed && in.tensor->info.dtype == out.info.dtype) return 0;
    return std::nullopt;
  }
  std::unique_ptr<TensorMerge> bind(const OutputTensor& out) const override {
    return std::make_unique<ScaledCopy>(scale(out));
  }

 private:
  float scale(const OutputTensor& out) const { return static_cast<float>(out.inputs[0].params.number(params_[0])); }
  std::vector<ParamSpec> params_;
};

}  // namespace

const MergeMethod& passthrough_method() {
  static const Passthrough method;
  return method;
}

}  // namespace wasmerge
