#pragma once
// Which entries of a task vector survive (SPEC §2).
//   DARE (random): a counter-based mask, a pure function of (seed, tensor, model, index),
//   so the same config gives the same merge on any machine and thread count.
//   TIES (magnitude): exactly floor(d·n) entries with the largest |δ|, ties to the lower
//   index, found by an exact radix select over the bit patterns of |δ|.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace wasmerge {

inline uint64_t splitmix64(uint64_t x) {
  uint64_t z = x + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
uint64_t fnv1a64(const std::string& bytes);

// The per-(tensor, model) stream s; element i is kept iff (splitmix64(s + i) >> 40) < threshold.
uint64_t dare_stream(uint64_t seed, const std::string& tensor, uint64_t model_index);
uint32_t dare_threshold(double density);  // floor(d · 2^24 + 0.5)
inline bool dare_keep(uint64_t stream, uint64_t index, uint32_t threshold) {
  return (splitmix64(stream + index) >> 40) < threshold;
}

// |δ| as an ordered integer: for non-negative floats, bit patterns sort like values.
inline uint32_t magnitude_bits(float x) {
  uint32_t u;
  __builtin_memcpy(&u, &x, 4);
  return u & 0x7FFFFFFFu;
}

// x, or +0 when dropped, without a branch: masks are random, and compilers (clang for
// wasm especially) turn `keep ? x : 0` into a branch that mispredicts half the time.
inline float keep_if(float x, bool keep) {
  uint32_t bits;
  __builtin_memcpy(&bits, &x, 4);
  bits &= 0u - static_cast<uint32_t>(keep);
  __builtin_memcpy(&x, &bits, 4);
  return x;
}

// floor(d · n), clamped to [0, n].
uint64_t magnitude_keep_count(double density, uint64_t n);

// The cut of a magnitude trim: every entry above `threshold` is kept, and of the entries
// equal to it `equal_keep` in index order: the first ones (TIES: at equal |δ| the lower
// index ranks higher), or with ties_to_higher the last ones (an ascending rank that orders
// equal values by index, as breadcrumbs' outliers: the higher index ranks higher).
struct MagnitudeCut {
  uint32_t threshold = 0;
  uint64_t equal_keep = 0;
  uint64_t equal_total = 0;
  bool keep_all = false;   // k == n
  bool keep_none = false;  // k == 0
  bool ties_to_higher = false;
  bool partial_tie() const { return !keep_all && !keep_none && equal_keep < equal_total; }
  // The kept ties are those whose ordinal among the ties (in index order) is in [first, first + equal_keep).
  uint64_t first_kept_tie() const { return ties_to_higher ? equal_total - equal_keep : 0; }
};

// Radix select in two histogram passes over |δ|: the high 16 bits, then the low 16
// bits of the entries whose high bits equal the chosen prefix.
class RadixSelect {
 public:
  static constexpr size_t kBins = 65536;
  using Histogram = std::vector<uint64_t>;  // kBins counts

  // exact: the threshold is wanted even when every entry is kept (then it is the minimum),
  // as for an order statistic.
  RadixSelect(uint64_t n, uint64_t keep, bool exact = false);
  bool needs_passes() const { return keep_ > 0 && (keep_ < n_ || (exact_ && keep_ == n_)); }
  uint64_t keep() const { return keep_; }
  // Pass 0 counts bits >> 16 of every entry; pass 1 counts bits & 0xFFFF of the entries
  // with (bits >> 16) == prefix().
  uint32_t prefix() const { return prefix_; }
  void finish_high_pass(const Histogram& high);
  MagnitudeCut finish_low_pass(const Histogram& low) const;
  MagnitudeCut trivial_cut() const;  // when !needs_passes()

 private:
  uint64_t n_, keep_;
  bool exact_;
  uint32_t prefix_ = 0;
  uint64_t above_prefix_ = 0;  // entries whose high bits exceed the prefix
};

// Zeroes the entries of delta[0..n) the cut drops; `ties_seen` is how many entries equal
// to the threshold precede delta[0] in the tensor.
void magnitude_mask(const MagnitudeCut& cut, float* delta, size_t n, uint64_t ties_seen);
// When the cut treats every entry of delta[0..n) alike, keeping those whose |δ| bit pattern
// is at least *min_bits (0: all, 0xFFFFFFFF: none), sets it and returns true; false when the
// span holds the first or the last kept tie, where ties go entry by entry.
// ties_here: how many of the n equal the threshold, when known; delta may then be null
// (with neither, it returns false where it would count them).
bool magnitude_min_bits(const MagnitudeCut& cut, const float* delta, size_t n, uint64_t ties_seen, uint32_t* min_bits,
                        const uint64_t* ties_here = nullptr);
// The same decisions as flags (1: the cut keeps the entry), from values it leaves unchanged.
void magnitude_flags(const MagnitudeCut& cut, const float* values, size_t n, uint64_t ties_seen, uint8_t* kept);
// Zeroes the entries of delta[0..n), tensor indices first_index.., that DARE drops. With
// `kept` (n bytes) it also records each decision (1 kept, 0 dropped) for apply_kept.
void dare_mask(uint64_t stream, uint32_t threshold, float* delta, size_t n, uint64_t first_index,
               uint8_t* kept = nullptr);
// DARE's decisions alone (1 kept, 0 dropped) for tensor indices first_index.. (n of them).
void dare_flags(uint64_t stream, uint32_t threshold, size_t n, uint64_t first_index, uint8_t* kept);
void apply_kept(const uint8_t* kept, float* delta, size_t n);
// n flags (bytes of 0 or 1) to bits (flag i is bit i % 8 of byte i / 8) and back, a word at a time.
void pack_flags(const uint8_t* flags, size_t n, uint8_t* bits);
void unpack_flags(const uint8_t* bits, size_t n, uint8_t* flags);

}  // namespace wasmerge
