// Reading a PEFT adapter folder and attaching its tensors to the model's (SPEC §8).
// Tensor names: base_model.model.<module>.lora_A.weight [r, in], .lora_B.weight [out, r],
// .lora_B.bias [out], .lora_embedding_A [r, vocab], .lora_embedding_B [dim, r],
// .lora_magnitude_vector(.weight) (DoRA); any other base_model.model.<name> is a
// modules_to_save tensor that replaces the model's <name>. PEFT's in-memory forms with the
// adapter name (lora_A.default.weight, modules_to_save.default.) are read the same way.
#include "lora/lora_adapter.hpp"

#include <map>

#include "lora/adapted_tensors.hpp"
#include "lora/lora_config.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/safetensors.hpp"

namespace wasmerge {
namespace {

constexpr const char* kPrefix = "base_model.model.";


bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size())) s.replace(i, from.size(), to);
}

enum class Part { A, B, Bias, EmbeddingA, EmbeddingB, Magnitude };

// One module's adapter tensors.
struct ModuleTensors {
  std::map<Part, ModelTensor> parts;
};

class AdapterReader {
 public:
  AdapterReader(InputFiles& files, Model& model)
      : files_(files),
        model_(model),
        config_file_(model.adapter + "/" + kAdapterConfigName),
        weights_file_(model.adapter + "/" + kAdapterWeightsName) {}

  void run() {
    if (!files_.file_size(config_file_))
      fail(config_file_, "",
           "missing: " + model_.adapter + " is not a PEFT adapter folder (adapter_config.json + " +
               kAdapterWeightsName + ")");
    config_ = parse_lora_config(read_small_file(files_, config_file_), config_file_);
    if (!files_.file_size(weights_file_))
      fail(weights_file_, "",
           files_.file_size(model_.adapter + "/adapter_model.bin")
               ? "missing: the adapter has only adapter_model.bin (a pickle), which is not read; save it as "
                 "safetensors"
               : "missing: the adapter's tensors are read from it");
    model_.sources.push_back(files_.open(weights_file_));
    ByteSource& source = *model_.sources.back();
    const SafetensorsHeader header = read_safetensors_header(source);
    for (const TensorInfo& info : header.tensors) classify(ModelTensor{info, &source, header.data_start});
    for (auto& entry : modules_) attach(entry.first, entry.second);
    for (const auto& saved : saved_) attach_saved(saved);
  }

 private:
  // Which module and part a tensor of the adapter is.
  void classify(const ModelTensor& t) {
    const std::string& key = t.info.name;
    if (key.compare(0, std::string(kPrefix).size(), kPrefix) != 0)
      fail(weights_file_, key, std::string("is not a PEFT tensor name (") + kPrefix + "<module>.lora_A.weight ...)");
    if (!is_mergeable(t.info.dtype))
      fail(weights_file_, key, std::string("has dtype ") + dtype_name(t.info.dtype) + ": adapter tensors are floats");
    std::string name = key.substr(std::string(kPrefix).size());
    for (const std::string part : {"lora_A", "lora_B", "lora_embedding_A", "lora_embedding_B", "lora_magnitude_vector"})
      replace_all(name, "." + part + ".default", "." + part);
    replace_all(name, ".modules_to_save.default", "");
    replace_all(name, ".modules_to_save", "");
    static const std::pair<const char*, Part> kParts[] = {{".lora_A.weight", Part::A},
                                                          {".lora_B.weight", Part::B},
                                                          {".lora_B.bias", Part::Bias},
                                                          {".lora_embedding_A", Part::EmbeddingA},
                                                          {".lora_embedding_B", Part::EmbeddingB},
                                                          {".lora_magnitude_vector.weight", Part::Magnitude},
                                                          {".lora_magnitude_vector", Part::Magnitude}};
    for (const auto& kp : kParts)
      if (ends_with(name, kp.first)) {
        const std::string module = name.substr(0, name.size() - std::string(kp.first).size());
        if (!modules_[module].parts.emplace(kp.second, t).second)
          fail(weights_file_, key, "appears twice for module '" + module + "' (with and without the adapter name)");
        return;
      }
    if (name.find("lora_") != std::string::npos || name.find("token_adapter") != std::string::npos)
      fail(weights_file_, key,
           "is a kind of adapter tensor that is not supported (LoRA A/B, bias, DoRA, "
           "modules_to_save are)");
    saved_.push_back({name, t});
  }

  ModelTensor& target(const std::string& name) {
    const ModelTensor* t = model_.find(name);
    return model_.tensors[static_cast<size_t>(t - model_.tensors.data())];
  }

  [[noreturn]] void mismatch(const ModelTensor& part, const std::string& what) const {
    fail(weights_file_, part.info.name, what);
  }

  void attach(const std::string& module, const ModuleTensors& m) {
    const auto part = [&](Part p) -> const ModelTensor* {
      auto it = m.parts.find(p);
      return it == m.parts.end() ? nullptr : &it->second;
    };
    const ModelTensor* any = &m.parts.begin()->second;
    const bool embedding = part(Part::EmbeddingA) || part(Part::EmbeddingB);
    const ModelTensor* a = part(embedding ? Part::EmbeddingA : Part::A);
    const ModelTensor* b = part(embedding ? Part::EmbeddingB : Part::B);
    const char* a_name = embedding ? "lora_embedding_A" : "lora_A.weight";
    const char* b_name = embedding ? "lora_embedding_B" : "lora_B.weight";
    if (embedding && (part(Part::A) || part(Part::B)))
      mismatch(*any, "module '" + module + "' has both lora_A/lora_B and lora_embedding_A/_B");
    if (!a) mismatch(*b, "module '" + module + "' has no " + a_name);
    if (!b) mismatch(*a, "module '" + module + "' has no " + b_name);
    const std::string weight_name = module + ".weight";
    const ModelTensor* w = model_.find(weight_name);
    if (!w)
      mismatch(*a, "adapts module '" + module + "', which " + model_.folder + " lacks (it has no tensor '" +
                       weight_name + "')");
    if (!is_mergeable(w->info.dtype) || w->info.shape.size() != 2)
      mismatch(*a, "adapts '" + weight_name + "' of " + w->source->name() + ", which is not a matrix of floats (" +
                       dtype_name(w->info.dtype) + " " + shape_text(w->info.shape) + ")");
    if (a->info.shape.size() != 2) mismatch(*a, std::string(a_name) + " is not a matrix");
    if (b->info.shape.size() != 2) mismatch(*b, std::string(b_name) + " is not a matrix");
    const uint64_t rank = a->info.shape[0];
    if (b->info.shape[1] != rank)
      mismatch(*b, "module '" + module + "': " + b_name + " " + shape_text(b->info.shape) + " has rank " +
                       std::to_string(b->info.shape[1]) + ", " + a_name + " " + shape_text(a->info.shape) + " rank " +
                       std::to_string(rank));
    const int configured = config_.rank_of(module);
    if (rank != static_cast<uint64_t>(configured))
      mismatch(*a, "module '" + module + "' has rank " + std::to_string(rank) + ", but " + config_file_ +
                       " gives it r = " + std::to_string(configured) + " (r / rank_pattern)");
    // W [out, in] for a Linear; [in, out] with fan_in_fan_out; [vocab, dim] for an embedding.
    const bool transposed = embedding || config_.fan_in_fan_out;
    const uint64_t in = transposed ? w->info.shape[0] : w->info.shape[1];
    const uint64_t out = transposed ? w->info.shape[1] : w->info.shape[0];
    const std::string w_text = "'" + weight_name + "' " + shape_text(w->info.shape) + " in " + w->source->name();
    if (a->info.shape[1] != in)
      mismatch(*a, std::string(a_name) + " " + shape_text(a->info.shape) + " does not fit " + w_text + ": its " +
                       (embedding ? "vocabulary " : "input size ") + std::to_string(a->info.shape[1]) + " ≠ " +
                       std::to_string(in));
    if (b->info.shape[0] != out)
      mismatch(*b, std::string(b_name) + " " + shape_text(b->info.shape) + " does not fit " + w_text + ": its " +
                       (embedding ? "dimension " : "output size ") + std::to_string(b->info.shape[0]) + " ≠ " +
                       std::to_string(out));
    LoraFactors f;
    f.weight = *w;
    f.a = *a;
    f.b = *b;
    f.transposed = transposed;
    f.scale = config_.scale_of(module);
    f.adapter = model_.adapter;
    f.module = module;
    const ModelTensor* magnitude = part(Part::Magnitude);
    if (magnitude && !config_.use_dora)
      mismatch(*magnitude, "is DoRA's magnitude, but " + config_file_ + " does not set use_dora");
    if (config_.use_dora) {
      if (!magnitude) mismatch(*a, "module '" + module + "' has no lora_magnitude_vector, which use_dora needs");
      if (magnitude->info.shape != std::vector<uint64_t>{out})
        mismatch(*magnitude, "lora_magnitude_vector " + shape_text(magnitude->info.shape) + " does not fit " + w_text +
                                 ": it needs one value per output, " + std::to_string(out));
      f.magnitude = *magnitude;
    }
    if (const ModelTensor* bias = part(Part::Bias)) {
      if (embedding) mismatch(*bias, "an embedding has no bias to add lora_B.bias to");
      const std::string bias_name = module + ".bias";
      const ModelTensor* model_bias = model_.find(bias_name);
      if (!model_bias)
        mismatch(*bias, "lora_B.bias needs the module's bias, and " + model_.folder + " has no '" + bias_name + "'");
      if (!is_mergeable(model_bias->info.dtype) || bias->info.shape != model_bias->info.shape ||
          bias->info.shape != std::vector<uint64_t>{out})
        mismatch(*bias, "lora_B.bias " + shape_text(bias->info.shape) + " does not fit '" + bias_name + "' " +
                            shape_text(model_bias->info.shape) + " in " + model_bias->source->name());
      target(bias_name).computed = shifted_bias(*model_bias, *bias, f.scale, model_.adapter);
    }
    target(weight_name).computed = lora_weight(std::move(f));
  }

  void attach_saved(const std::pair<std::string, ModelTensor>& saved) {
    const std::string& name = saved.first;
    const ModelTensor& t = saved.second;
    const ModelTensor* w = model_.find(name);
    if (!w) mismatch(t, "replaces (modules_to_save) '" + name + "', which " + model_.folder + " lacks");
    if (w->computed) mismatch(t, "replaces '" + name + "', which the adapter also adapts");
    if (!is_mergeable(w->info.dtype) || w->info.shape != t.info.shape)
      mismatch(t, "replaces '" + name + "' " + shape_text(w->info.shape) + " of " + w->source->name() +
                      " with another shape, " + shape_text(t.info.shape));
    target(name).computed = saved_module(t, model_.adapter);
  }

  InputFiles& files_;
  Model& model_;
  const std::string config_file_, weights_file_;
  LoraConfig config_;
  std::map<std::string, ModuleTensors> modules_;
  std::vector<std::pair<std::string, ModelTensor>> saved_;
};

}  // namespace

void apply_lora_adapter(InputFiles& files, Model& model) { AdapterReader(files, model).run(); }

}  // namespace wasmerge
