#include "wasmerge/sparsify.hpp"

#include <cmath>
#include <cstring>

namespace wasmerge {

uint64_t fnv1a64(const std::string& bytes) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001B3ull;
  }
  return h;
}

uint64_t dare_stream(uint64_t seed, const std::string& tensor, uint64_t model_index) {
  return splitmix64(seed ^ splitmix64(fnv1a64(tensor) ^ splitmix64(model_index)));
}

uint32_t dare_threshold(double density) {
  return static_cast<uint32_t>(std::floor(density * 16777216.0 + 0.5));
}

uint64_t magnitude_keep_count(double density, uint64_t n) {
  if (density >= 1) return n;
  const double k = std::floor(density * static_cast<double>(n));
  return k <= 0 ? 0 : static_cast<uint64_t>(k);
}

RadixSelect::RadixSelect(uint64_t n, uint64_t keep, bool exact) : n_(n), keep_(keep), exact_(exact) {}

// Walks the bins from the largest magnitude down until the keep-th largest entry is inside.
void RadixSelect::finish_high_pass(const Histogram& high) {
  uint64_t above = 0;
  for (size_t bin = kBins; bin-- > 0;) {
    if (above + high[bin] >= keep_) {
      prefix_ = static_cast<uint32_t>(bin);
      above_prefix_ = above;
      return;
    }
    above += high[bin];
  }
}

MagnitudeCut RadixSelect::finish_low_pass(const Histogram& low) const {
  MagnitudeCut cut;
  uint64_t above = above_prefix_;
  for (size_t bin = kBins; bin-- > 0;) {
    if (above + low[bin] >= keep_) {
      cut.threshold = (prefix_ << 16) | static_cast<uint32_t>(bin);
      cut.equal_total = low[bin];
      cut.equal_keep = keep_ - above;
      return cut;
    }
    above += low[bin];
  }
  return cut;
}

MagnitudeCut RadixSelect::trivial_cut() const {
  MagnitudeCut cut;
  cut.keep_all = keep_ >= n_ && !needs_passes();
  cut.keep_none = keep_ == 0 && n_ > 0;
  if (n_ == 0) cut.keep_all = true;
  return cut;
}

namespace {

size_t count_ties(const float* delta, size_t n, uint32_t threshold) {
  size_t ties = 0;
  for (size_t i = 0; i < n; ++i) ties += magnitude_bits(delta[i]) == threshold;
  return ties;
}

void keep_at_least(float* delta, size_t n, uint32_t min_bits) {
  if (min_bits == 0) return;
  for (size_t i = 0; i < n; ++i) delta[i] = keep_if(delta[i], magnitude_bits(delta[i]) >= min_bits);
}
}  // namespace

bool magnitude_min_bits(const MagnitudeCut& cut, const float* delta, size_t n, uint64_t ties_seen, uint32_t* min_bits,
                        const uint64_t* ties_here) {
  const uint32_t above = cut.threshold + 1;  // at most 0x80000000: no |δ| pattern reaches it
  if (cut.keep_all) return *min_bits = 0, true;
  if (cut.keep_none) return *min_bits = 0xFFFFFFFFu, true;
  if (!cut.partial_tie()) return *min_bits = cut.threshold, true;
  // Only the ties with ordinals in [lo, hi) survive: a span inside that range keeps all its
  // ties, one outside it none; only a span across an end goes entry by entry.
  const uint64_t lo = cut.first_kept_tie(), hi = lo + cut.equal_keep;
  if (ties_seen >= hi) return *min_bits = above, true;
  if (!ties_here && !delta) return false;
  const uint64_t end = ties_seen + (ties_here ? *ties_here : count_ties(delta, n, cut.threshold));
  if (end <= lo) return *min_bits = above, true;
  if (ties_seen >= lo && end <= hi) return *min_bits = cut.threshold, true;
  return false;
}

void magnitude_mask(const MagnitudeCut& cut, float* delta, size_t n, uint64_t ties_seen) {
  uint32_t min_bits;
  if (magnitude_min_bits(cut, delta, n, ties_seen, &min_bits)) return keep_at_least(delta, n, min_bits);
  const uint64_t lo = cut.first_kept_tie(), hi = lo + cut.equal_keep;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t bits = magnitude_bits(delta[i]);
    const bool tie = bits == cut.threshold;
    const bool keep = (bits > cut.threshold) | (tie & (ties_seen >= lo) & (ties_seen < hi));
    ties_seen += tie;
    delta[i] = keep_if(delta[i], keep);
  }
}

void magnitude_flags(const MagnitudeCut& cut, const float* values, size_t n, uint64_t ties_seen, uint8_t* kept) {
  const uint64_t lo = cut.first_kept_tie(), hi = lo + cut.equal_keep;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t bits = magnitude_bits(values[i]);
    const bool tie = bits == cut.threshold;
    kept[i] = cut.keep_all || (!cut.keep_none && ((bits > cut.threshold) | (tie & (ties_seen >= lo) & (ties_seen < hi))));
    ties_seen += tie;
  }
}

void dare_mask(uint64_t stream, uint32_t threshold, float* delta, size_t n, uint64_t first_index, uint8_t* kept) {
  if (!kept) {
    for (size_t i = 0; i < n; ++i) delta[i] = keep_if(delta[i], dare_keep(stream, first_index + i, threshold));
    return;
  }
  dare_flags(stream, threshold, n, first_index, kept);
  apply_kept(kept, delta, n);
}

void dare_flags(uint64_t stream, uint32_t threshold, size_t n, uint64_t first_index, uint8_t* kept) {
#ifdef __clang__
#pragma clang loop vectorize(disable)  // wasm's i64x2.mul is emulated: scalar 64-bit math is faster
#endif
  for (size_t i = 0; i < n; ++i) kept[i] = dare_keep(stream, first_index + i, threshold);
}

void apply_kept(const uint8_t* kept, float* delta, size_t n) {
  for (size_t i = 0; i < n; ++i) delta[i] = keep_if(delta[i], kept[i]);
}

void pack_flags(const uint8_t* flags, size_t n, uint8_t* bits) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word;
    std::memcpy(&word, flags + i, 8);
    bits[i / 8] = static_cast<uint8_t>((word * 0x0102040810204080ull) >> 56);
  }
  if (i < n) {
    uint8_t byte = 0;
    for (size_t j = 0; i + j < n; ++j) byte = static_cast<uint8_t>(byte | flags[i + j] << j);
    bits[i / 8] = byte;
  }
}

void unpack_flags(const uint8_t* bits, size_t n, uint8_t* flags) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word = (bits[i / 8] * 0x0101010101010101ull) & 0x8040201008040201ull;  // byte j: bit j alone
    word = ((word + 0x7F7F7F7F7F7F7F7Full) >> 7) & 0x0101010101010101ull;          // nonzero -> 1
    std::memcpy(flags + i, &word, 8);
  }
  for (; i < n; ++i) flags[i] = (bits[i / 8] >> (i % 8)) & 1;
}

}  // namespace wasmerge
