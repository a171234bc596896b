#include "moe/gate_vectors.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "pipeline/tensor_source.hpp"
#include "wasmerge/convert.hpp"
#include "wasmerge/error.hpp"

namespace wasmerge {
namespace {

using Vector = std::vector<double>;

void add_row(Vector& sum, const float* row) {
  for (size_t i = 0; i < sum.size(); ++i) sum[i] += row[i];
}

// v / max(‖v‖, 1e-8), as mergekit's clamp.
void normalize(Vector& v) {
  double squares = 0;
  for (double x : v) squares += x * x;
  const double norm = std::max(std::sqrt(squares), 1e-8);
  for (double& x : v) x /= norm;
}

// f(positive) − f(negative), normalized, into the table's row.
void store(GateTable& table, int layer, int slot, Vector positive, const Vector* negative) {
  if (negative)
    for (size_t i = 0; i < positive.size(); ++i) positive[i] -= (*negative)[i];
  normalize(positive);
  float* row = table.row(layer, slot);
  for (size_t i = 0; i < positive.size(); ++i) row[i] = static_cast<float>(positive[i]);
}

class GateVectors : public Precompute {
 public:
  GateVectors(const Model& base, GateMode mode, const DecoderShape& shape, std::vector<SlotPrompts> slots,
              std::shared_ptr<GateTable> table)
      : base_(base), mode_(mode), shape_(shape), slots_(std::move(slots)), table_(std::move(table)) {}

  void run(ThreadPool& pool, uint64_t budget, const std::function<void(int, int)>& on_step) override {
    GateTable& t = *table_;
    t.layers = shape_.layers;
    t.slots = static_cast<int>(slots_.size());
    t.hidden = shape_.hidden;
    t.values.assign(static_cast<size_t>(t.layers) * t.slots * t.hidden, 0.0f);
    budget_ = budget;
    if (mode_ == GateMode::CheapEmbed)
      cheap_embed(on_step);
    else
      hidden_states(pool, budget, on_step);
    t.ready = true;
  }

 private:
  // Σ of the embedding rows of every token of every prompt, normalized.
  Vector embedded(const std::vector<std::vector<int32_t>>& prompts) {
    const ModelTensor* embed = base_.find("model.embed_tokens.weight");
    if (!embed) fail(base_.path, "model.embed_tokens.weight", "is missing: cheap_embed routers sum its rows");
    const size_t hidden = static_cast<size_t>(shape_.hidden);
    const uint64_t rows = embed->info.shape.empty() ? 0 : embed->info.shape[0];
    if (embed->info.shape.size() != 2 || embed->info.shape[1] != hidden)
      fail(embed->source->name(), embed->info.name, "is not [vocab, hidden_size]");
    // Through its source: an adapted model's embedding is computed (SPEC §8).
    const auto source = make_source(*embed, nullptr, budget_ / 16);
    std::vector<uint8_t> bytes(hidden * dtype_size(source->dtype()));
    std::vector<float> row(hidden);
    Vector sum(hidden, 0.0);
    for (const auto& prompt : prompts)
      for (int32_t token : prompt) {
        if (token < 0 || static_cast<uint64_t>(token) >= rows)
          fail(embed->source->name(), embed->info.name,
               "token id " + std::to_string(token) + " of a prompt is outside its " + std::to_string(rows) + " rows");
        source->read(static_cast<uint64_t>(token) * hidden, hidden, bytes.data());
        to_f32(source->dtype(), bytes.data(), row.data(), hidden);
        add_row(sum, row.data());
      }
    normalize(sum);
    return sum;
  }

  void cheap_embed(const std::function<void(int, int)>& on_step) {
    for (size_t s = 0; s < slots_.size(); ++s) {
      const Vector positive = embedded(slots_[s].positive);
      Vector negative;
      if (!slots_[s].negative.empty()) negative = embedded(slots_[s].negative);
      for (int layer = 0; layer < shape_.layers; ++layer)
        store(*table_, layer, static_cast<int>(s), positive, slots_[s].negative.empty() ? nullptr : &negative);
    }
    on_step(1, 1);
  }

  // Every distinct prompt runs once, all together, so each layer's weights are read once.
  void hidden_states(ThreadPool& pool, uint64_t budget, const std::function<void(int, int)>& on_step) {
    std::map<std::vector<int32_t>, size_t> index;
    std::vector<std::vector<int32_t>> sequences;
    for (const auto& slot : slots_)
      for (const auto* list : {&slot.positive, &slot.negative})
        for (const auto& prompt : *list)
          if (index.emplace(prompt, sequences.size()).second) sequences.push_back(prompt);
    std::vector<size_t> start(sequences.size() + 1, 0);  // each sequence's first row
    for (size_t i = 0; i < sequences.size(); ++i) start[i + 1] = start[i] + sequences[i].size();

    const size_t hidden = static_cast<size_t>(shape_.hidden);
    const bool average = mode_ == GateMode::HiddenAvg;
    // f(list): the prompts' states (last token, or the mean over tokens), averaged.
    auto f = [&](const float* states, const std::vector<std::vector<int32_t>>& prompts) {
      Vector sum(hidden, 0.0);
      for (const auto& prompt : prompts) {
        const size_t s = index.at(prompt);
        if (!average) {
          add_row(sum, states + (start[s + 1] - 1) * hidden);
          continue;
        }
        Vector tokens(hidden, 0.0);
        for (size_t r = start[s]; r < start[s + 1]; ++r) add_row(tokens, states + r * hidden);
        for (size_t i = 0; i < hidden; ++i) sum[i] += tokens[i] / static_cast<double>(prompt.size());
      }
      for (double& x : sum) x /= static_cast<double>(prompts.size());
      return sum;
    };
    Decoder decoder(base_, shape_, pool, budget);
    const int last = shape_.layers - 1;
    decoder.hidden_states(sequences, last, [&](int layer, const float* states, size_t) {
      for (size_t s = 0; s < slots_.size(); ++s) {
        const Vector negative = slots_[s].negative.empty() ? Vector() : f(states, slots_[s].negative);
        store(*table_, layer, static_cast<int>(s), f(states, slots_[s].positive),
              slots_[s].negative.empty() ? nullptr : &negative);
      }
      on_step(layer + 1, last + 1);
    });
  }

  const Model& base_;
  GateMode mode_;
  DecoderShape shape_;
  std::vector<SlotPrompts> slots_;
  std::shared_ptr<GateTable> table_;
  uint64_t budget_ = 0;
};

}  // namespace

std::shared_ptr<Precompute> gate_vectors(const Model& base, GateMode mode, const DecoderShape& shape,
                                         std::vector<SlotPrompts> slots, std::shared_ptr<GateTable> table) {
  return std::make_shared<GateVectors>(base, mode, shape, std::move(slots), std::move(table));
}

}  // namespace wasmerge
