#include "passes/magnitude_cuts.hpp"

#include <algorithm>
#include <cstring>
#include <functional>

namespace wasmerge {
namespace {

std::vector<MagnitudeCuts::Selection> one_per_model(const std::vector<double>& densities, uint64_t elements) {
  std::vector<MagnitudeCuts::Selection> selections;
  for (size_t k = 0; k < densities.size(); ++k) {
    MagnitudeCuts::Selection s;
    s.source = k;
    s.keep = magnitude_keep_count(densities[k], elements);
    selections.push_back(s);
  }
  return selections;
}

}  // namespace

MagnitudeCuts::MagnitudeCuts(const std::vector<double>& densities, uint64_t elements)
    : MagnitudeCuts(one_per_model(densities, elements), elements) {}

MagnitudeCuts::MagnitudeCuts(std::vector<Selection> selections, uint64_t elements, Series series)
    : elements_(elements), selections_(std::move(selections)), series_(std::move(series)) {
  for (const Selection& s : selections_) {
    select_.emplace_back(elements, s.keep, s.exact);
    cuts_.push_back(select_.back().trivial_cut());
    cuts_.back().ties_to_higher = s.ties_to_higher;
  }
}

bool MagnitudeCuts::needs_select() const {
  return std::any_of(select_.begin(), select_.end(), [](const RadixSelect& s) { return s.needs_passes(); });
}

const OrderedCount* MagnitudeCuts::ties() const {
  return std::any_of(cuts_.begin(), cuts_.end(), [](const MagnitudeCut& c) { return c.partial_tie(); }) ? this
                                                                                                        : nullptr;
}

float MagnitudeCuts::threshold_value(size_t s) const {
  float v;
  std::memcpy(&v, &cuts_[s].threshold, 4);
  return v;
}

const float* MagnitudeCuts::values(const Chunk& chunk, size_t source) const {
  if (!series_) return chunk.models[source];
  thread_local std::vector<float> buffer;
  buffer.resize(chunk.capacity);
  return series_(chunk, source, buffer.data());
}

void MagnitudeCuts::mask(const Chunk& chunk, size_t s, float* values) const {
  magnitude_mask(cuts_[s], values, chunk.count, ties_before(chunk, s));
}

bool MagnitudeCuts::min_kept_bits(const Chunk& chunk, size_t s, const float* values, uint32_t* min_bits) const {
  // The bracket's pass counted each chunk's ties: the values are not needed for them.
  const bool counted = !chunk_ties_.empty() && !chunk_ties_[s].empty();
  return magnitude_min_bits(cuts_[s], values, chunk.count, ties_before(chunk, s), min_bits,
                            counted ? &chunk_ties_[s][chunk.index] : nullptr);
}

void MagnitudeCuts::flags(const Chunk& chunk, size_t s, const float* values, uint8_t* kept) const {
  magnitude_flags(cuts_[s], values, chunk.count, ties_before(chunk, s), kept);
}

void MagnitudeCuts::count(const Chunk& chunk, uint64_t* counts) const {
  for (size_t s = 0; s < cuts_.size(); ++s) {
    if (!cuts_[s].partial_tie()) continue;
    if (!chunk_ties_.empty()) {
      counts[s] = chunk_ties_[s][chunk.index];
      continue;
    }
    const float* v = values(chunk, selections_[s].source);
    uint64_t ties = 0;
    for (size_t i = 0; i < chunk.count; ++i) ties += magnitude_bits(v[i]) == cuts_[s].threshold;
    counts[s] = ties;
  }
}

// A tensor of one chunk is cut directly from its |x| bit patterns (selecting the k-th
// largest, O(n)): the same cut as the two tally passes, which cost 65536 bins a selection
// however small the tensor.
void MagnitudeCuts::select(BlockPipeline& pipeline) {
  if (!needs_select()) return;
  if (elements_ <= pipeline.chunk_capacity()) return select_one_chunk(pipeline);
  if (bracket_pass(pipeline)) return;
  tally_pass(pipeline, 0);
  tally_pass(pipeline, 1);
}

// The sample: every fourth entry of chunks spread over the tensor. Its bracket holds
// about 4.6·n/√m entries of n (five standard deviations of a quantile of m samples each
// side), which must fit the memory the collection may take: a large tensor in a small
// budget samples more, up to 1024 chunks.
bool MagnitudeCuts::bracket_pass(BlockPipeline& pipeline) {
  constexpr size_t kSampleStride = 4, kMostChunks = 1024;
  const size_t selections = cuts_.size();
  std::vector<size_t> active;
  for (size_t s = 0; s < selections; ++s)
    if (select_[s].needs_passes()) active.push_back(s);
  // The collected values and counts stay within an eighth of the budget.
  const uint64_t max_values = pipeline.budget() / 8 / (2 * sizeof(uint32_t)) / active.size();
  const double root_m = 12.0 * static_cast<double>(elements_) / static_cast<double>(std::max<uint64_t>(1, max_values));
  const double wanted = root_m * root_m * kSampleStride / static_cast<double>(pipeline.chunk_capacity());
  const size_t sample_chunks = static_cast<size_t>(std::clamp(wanted, 8.0, static_cast<double>(kMostChunks)));
  std::vector<std::vector<std::vector<uint32_t>>> samples(sample_chunks,
                                                          std::vector<std::vector<uint32_t>>(selections));
  const size_t sampled = pipeline.sample(sample_chunks, [&](Chunk& chunk, size_t slot) {
    for (size_t s : active) {
      const float* v = values(chunk, selections_[s].source);
      std::vector<uint32_t>& bits = samples[slot][s];
      for (size_t i = 0; i < chunk.count; i += kSampleStride) bits.push_back(magnitude_bits(v[i]));
    }
  });
  std::vector<Bracket> brackets(selections);  // a selection's sample is its own: one pool task each
  pipeline.parallel_for(selections, [&](size_t s) {
    std::vector<uint32_t> sample;
    for (size_t slot = 0; slot < sampled; ++slot)
      sample.insert(sample.end(), samples[slot][s].begin(), samples[slot][s].end());
    brackets[s] = bracket_from_sample(std::move(sample), select_[s].keep(), elements_);
  });
  samples.clear();
  std::vector<BracketCollect> collects;
  for (size_t s = 0; s < selections; ++s) collects.emplace_back(brackets[s], select_[s].keep(), max_values);
  // A model's δ are scanned as they are converted (a derived series needs them converted).
  // When every model's are, the scan also stands in for the check for NaN and infinity:
  // one in the base or a model makes some |δ| one, which flags the chunk for the check.
  PassInputs inputs;
  inputs.convert_models = series_ != nullptr;
  std::vector<bool> scanned(pipeline.model_count());
  for (size_t s : active) scanned[selections_[s].source] = true;
  inputs.step_flags_nonfinite = !inputs.convert_models && pipeline.base_in_every_model() &&
                                std::all_of(scanned.begin(), scanned.end(), [](bool b) { return b; });
  pipeline.reduce<std::vector<BracketPart>>(
      [&](Chunk& chunk) {
        std::vector<BracketPart> parts(selections);
        for (size_t s : active) {
          const Bracket& bracket = collects[s].bracket();
          const size_t source = selections_[s].source;
          if (inputs.convert_models) {
            parts[s] = scan_bracket(bracket, values(chunk, source), chunk.count);
          } else {
            const RawModel& m = chunk.raw_models[source];
            parts[s] = scan_bracket(bracket, m.dtype, m.bytes, m.base, chunk.count);
          }
          chunk.maybe_nonfinite = chunk.maybe_nonfinite || parts[s].nonfinite;
        }
        return parts;
      },
      [&](std::vector<BracketPart>& parts) {
        for (size_t s : active) collects[s].add(parts[s]);
      },
      nullptr, inputs);
  for (size_t s : active)
    if (!collects[s].hit()) return false;
  chunk_ties_.assign(selections, {});
  for (size_t s : active) {
    cuts_[s] = collects[s].cut();
    cuts_[s].ties_to_higher = selections_[s].ties_to_higher;
    if (cuts_[s].partial_tie()) chunk_ties_[s] = collects[s].ties_per_chunk(cuts_[s].threshold);
  }
  return true;
}

void MagnitudeCuts::select_one_chunk(BlockPipeline& pipeline) {
  pipeline.reduce<std::vector<MagnitudeCut>>(
      [&](Chunk& chunk) {
        std::vector<MagnitudeCut> cuts = cuts_;
        std::vector<uint32_t> bits(chunk.count);
        for (size_t s = 0; s < cuts.size(); ++s) {
          if (!select_[s].needs_passes()) continue;
          const float* v = values(chunk, selections_[s].source);
          for (size_t i = 0; i < chunk.count; ++i) bits[i] = magnitude_bits(v[i]);
          const uint64_t keep = select_[s].keep();
          std::nth_element(bits.begin(), bits.begin() + static_cast<long>(keep - 1), bits.end(),
                           std::greater<uint32_t>());
          MagnitudeCut& cut = cuts[s] = MagnitudeCut();
          cut.threshold = bits[keep - 1];
          cut.ties_to_higher = selections_[s].ties_to_higher;
          const auto above = static_cast<uint64_t>(
              std::count_if(bits.begin(), bits.end(), [&](uint32_t b) { return b > cut.threshold; }));
          cut.equal_total = static_cast<uint64_t>(std::count(bits.begin(), bits.end(), cut.threshold));
          cut.equal_keep = keep - above;
        }
        return cuts;
      },
      [&](std::vector<MagnitudeCut>& cuts) {
        cuts_ = cuts;
        chunk_ties_.assign(cuts_.size(), {});
        for (size_t s = 0; s < cuts_.size(); ++s) chunk_ties_[s] = {cuts_[s].equal_total};  // all in chunk 0
      });
}

// Level 0 counts the high 16 bits of every |x|, level 1 the low 16 bits of the entries
// under the prefix level 0 chose. Selections of one series share their level-0 counts.
void MagnitudeCuts::tally_pass(BlockPipeline& pipeline, int level) {
  constexpr size_t kBins = RadixSelect::kBins;
  const size_t selections = cuts_.size();
  std::vector<size_t> histogram(selections, selections);  // which selection's bins it reads; none: selections
  for (size_t s = 0; s < selections; ++s) {
    if (!select_[s].needs_passes()) continue;
    histogram[s] = s;
    if (level == 0)
      for (size_t o = 0; o < s; ++o)
        if (histogram[o] == o && selections_[o].source == selections_[s].source) histogram[s] = o;
  }
  const std::vector<uint64_t> totals = pipeline.tally(selections * kBins, [&](Chunk& chunk, uint32_t* counts) {
    for (size_t s = 0; s < selections; ++s) {
      if (histogram[s] != s) continue;
      uint32_t* h = counts + s * kBins;
      const float* v = values(chunk, selections_[s].source);
      if (level == 0) {
        for (size_t i = 0; i < chunk.count; ++i) ++h[magnitude_bits(v[i]) >> 16];
      } else {
        const uint32_t prefix = select_[s].prefix();
        for (size_t i = 0; i < chunk.count; ++i) {
          const uint32_t bits = magnitude_bits(v[i]);
          if ((bits >> 16) == prefix) ++h[bits & 0xFFFF];
        }
      }
    }
  });
  for (size_t s = 0; s < selections; ++s) {
    if (histogram[s] == selections) continue;
    const size_t from = histogram[s];
    const RadixSelect::Histogram h(totals.begin() + from * kBins, totals.begin() + (from + 1) * kBins);
    if (level == 0) {
      select_[s].finish_high_pass(h);
    } else {
      cuts_[s] = select_[s].finish_low_pass(h);
      cuts_[s].ties_to_higher = selections_[s].ties_to_higher;
    }
  }
}

}  // namespace wasmerge
