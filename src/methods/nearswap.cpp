// nearswap: takes the other model's value where it lies within t of the base's, and
// moves from the base toward it in proportion t/|b − m| where it lies farther (SPEC §6).
#include "methods/described_method.hpp"
#include "pipeline/block_pipeline.hpp"
#include "wasmerge/kernels.hpp"
#include "wasmerge/plan.hpp"

namespace wasmerge {
namespace {

class NearSwapMerge : public TensorMerge {
 public:
  explicit NearSwapMerge(float t) : t_(t) {}
  PipelineNeeds needs() const override { return {}; }
  void combine(Chunk& chunk, float* out) const override {
    near_swap(out, chunk.base, chunk.models[0], t_, chunk.count);
    chunk.observe("result", -1, out);
  }

 private:
  float t_;
};

class NearSwap : public DescribedMethod {
 public:
  NearSwap() : DescribedMethod(describe()) {}
  std::unique_ptr<TensorMerge> bind(const OutputTensor& out) const override {
    return std::make_unique<NearSwapMerge>(static_cast<float>(global(out, "t")));
  }

 private:
  static Description describe() {
    Description d;
    d.name = "nearswap";
    d.title = "NearSwap";
    d.url = "https://huggingface.co/alchemonaut/QuartetAnemoi-70B-t0.0001";
    d.summary =
        "Per weight: takes the other model's value where it is within t of the base's, and moves from the base "
        "toward it by t/|b − m| where they differ more; the larger t, the more of the other model.";
    d.formula = "w = clamp(t / max(|b − m|, 1e-6), 0, 1);  result = w·m + (1−w)·b";
    d.params = {ParamSpec::number("t", ParamSpec::Scope::Global, std::nullopt, true)};
    d.models = {1, 1};
    d.needs_base = true;
    return d;
  }
};

}  // namespace

const MergeMethod& nearswap_method() {
  static const NearSwap method;
  return method;
}

}  // namespace wasmerge
