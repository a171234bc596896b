#pragma once
// A merge method as an object (SPEC §2, §5): its name, title, paper, a one-line summary,
// the parameters it reads, how many models it takes, whether it needs a base, and which
// whole-tensor facts it needs. Bound to one output tensor of the plan it becomes a
// TensorMerge: the passes it asks the block pipeline for, and the arithmetic of one chunk.
//
// Each method is one file in src/methods/, listed once in src/methods/registry.cpp. Config
// checking, the plan, the model card and the catalogue the page and `--list-methods` show
// (the describe job) all read from here; nothing else knows a method by name.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wasmerge {

struct ParamSpec {
  enum class Scope { Global, PerModel };  // PerModel: per model, or a default for all of them
  enum class Kind { Number, Bool, Choice };
  std::string name;
  Scope scope = Scope::Global;
  Kind kind = Kind::Number;
  std::optional<double> default_value;  // a Choice's default is an index into choices
  bool required = false;
  std::optional<double> min, max;
  bool min_exclusive = false;
  std::vector<std::string> choices;  // Kind::Choice: the values, stored as their index

  static ParamSpec number(std::string name, Scope scope, std::optional<double> def, bool required = false);
  static ParamSpec boolean(std::string name, bool def);  // global
};

struct ModelCount {
  size_t min = 1;
  std::optional<size_t> max;  // none: any number
};

// Whole-tensor facts a method may need before it can write a tensor.
enum class Fact { MagnitudeCuts, L1Norms, DotProducts, RowBlocks };
const char* fact_name(Fact f);

// One output tensor's resolved parameters (filters, gradients and `t` applied): only the
// values the config gives; the method's defaults fill the rest.
class ParamValues {
 public:
  void set(const std::string& name, double v) { values_[name] = v; }
  std::optional<double> given(const std::string& name) const;
  double number(const ParamSpec& spec) const { return given(spec.name).value_or(spec.default_value.value_or(0.0)); }

 private:
  std::map<std::string, double> values_;
};

struct OutputTensor;
class BlockPipeline;
struct Chunk;
class OrderedCount;
class Explanation;

// How a bound method uses the pipeline, so it can lay out memory before the first read.
struct PipelineNeeds {
  bool task_vectors = false;       // inputs arrive as δ_k = m_k − b (the base first, as itself)
  bool several_passes = false;     // passes before the write: keep a fitting tensor in memory
  uint64_t bytes_per_element = 0;  // state the method keeps per element when it is kept
  // Chunks of whole rows of this many elements (per-row ranks, per-row softmax): each chunk
  // holds max(1, kChunk / row_length) rows. 0: plain chunks of kChunk elements.
  uint64_t row_length = 0;
  // The write's step converts the models itself (Chunk::converted is false): an election
  // that converts bf16 on the way in.
  bool write_converts_models = false;
};

class TensorMerge {
 public:
  virtual ~TensorMerge() = default;
  virtual PipelineNeeds needs() const = 0;
  // Whole-tensor facts, as pipeline passes, before the write.
  virtual void prepare(BlockPipeline&) {}
  // The ordered count the write step reads (Chunk::before), or null.
  virtual const OrderedCount* write_count() const { return nullptr; }
  // The result of one chunk into out[0..count), from the chunk's f32 inputs (which it
  // may overwrite). Called from the pool's threads at once: no shared writes.
  virtual void combine(Chunk& chunk, float* out) const = 0;
  // Adds what an explain event shows beyond the captured stages (TIES: the election).
  virtual void finish_explanation(Explanation&) const {}
};

class MergeMethod {
 public:
  virtual ~MergeMethod() = default;
  virtual std::string_view name() const = 0;
  virtual std::string_view title() const = 0;
  virtual std::string_view url() const = 0;
  virtual std::string_view summary() const = 0;
  // The arithmetic in one line of plain text (Unicode), as the page shows it beside the summary.
  virtual std::string_view formula() const = 0;
  virtual std::string card_link() const;  // the model card's words: "[title](url)"
  virtual const std::vector<ParamSpec>& params() const = 0;
  virtual ModelCount models() const { return {}; }
  virtual bool needs_base() const = 0;
  // Whether a base_model the config names is used as the base (nuslerp, multislerp:
  // optional); a method that needs one takes it.
  virtual bool takes_base() const { return needs_base(); }
  virtual std::vector<Fact> needs() const { return {}; }
  virtual std::vector<std::string> stages() const { return {"result"}; }  // what explain shows
  // An input whose bytes are the output's, unchanged (no arithmetic, same dtype), or none.
  virtual std::optional<size_t> byte_copy(const OutputTensor&) const { return std::nullopt; }
  virtual std::unique_ptr<TensorMerge> bind(const OutputTensor& out) const = 0;
  // Errors that need one tensor's resolved parameters (DELLA: density ± epsilon inside
  // (0, 1)): raised while planning, before any tensor is read.
  virtual void check(const OutputTensor&) const {}

  const ParamSpec* param(const std::string& name) const;
};

// The registry, in the order the page lists them.
const std::vector<const MergeMethod*>& all_methods();
const MergeMethod* find_method(std::string_view name);
// {"event":"methods","methods":[...]}: the catalogue the describe job reports.
std::string methods_event_json();

}  // namespace wasmerge
