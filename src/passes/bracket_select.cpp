#include "passes/bracket_select.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include "convert_simd.hpp"
#include "wasmerge/convert.hpp"

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

namespace wasmerge {

Bracket bracket_from_sample(std::vector<uint32_t> sample, uint64_t keep, uint64_t n) {
  Bracket b;
  const size_t m = sample.size();
  if (m == 0 || n == 0) return b;
  // The keep-th largest of n sits near rank q·m of the sample (0: the largest); its sample
  // rank's standard deviation is sqrt(m·q·(1−q)).
  const double q = static_cast<double>(keep) / static_cast<double>(n);
  const double rank = q * static_cast<double>(m);
  const double margin = 5.0 * std::sqrt(static_cast<double>(m) * q * (1.0 - q)) + 16.0;
  // The r-th largest; every selection after the first looks only past the one before
  // (nth_element leaves the smaller entries after it), which holds the lower rank.
  auto from = sample.begin();
  auto nth_largest = [&](double r) {
    const auto at = sample.begin() + static_cast<long>(r);
    std::nth_element(from, at, sample.end(), std::greater<uint32_t>());
    from = at + 1;
    return *at;
  };
  if (rank - margin >= 0) b.hi = nth_largest(rank - margin);
  if (rank + margin < static_cast<double>(m)) b.lo = nth_largest(rank + margin);
  return b;
}

#ifdef __wasm_simd128__
namespace {
// For each 4-bit mask of lanes, the byte shuffle that moves those lanes, in order, to
// the front of a vector (the rest is don't-care): a branch-free compaction.
struct LanePacking {
  v128_t shuffle[16];
  LanePacking() {
    for (int mask = 0; mask < 16; ++mask) {
      uint8_t bytes[16];
      int to = 0;
      for (int lane = 0; lane < 4; ++lane) {
        if (!(mask >> lane & 1)) continue;
        for (int b = 0; b < 4; ++b) bytes[4 * to + b] = static_cast<uint8_t>(4 * lane + b);
        ++to;
      }
      for (int b = 4 * to; b < 16; ++b) bytes[b] = 0x80;  // out of range: a zero byte
      shuffle[mask] = wasm_v128_load(bytes);
    }
  }
};
}  // namespace
#endif

namespace {

// The patterns inside a bracket, compacted, how many were above it, and the largest.
struct Inside {
  uint32_t* values;  // room for every entry of the chunk, + 4
  size_t count = 0;
  uint64_t above = 0;
  uint32_t largest = 0;
};

Inside start_scan(size_t n) {
  thread_local std::vector<uint32_t> buffer;
  buffer.resize(n + 4);
  return Inside{buffer.data()};
}

// Branch-free: the bracket holds a few percent of the entries, and with bf16 deltas (few
// distinct magnitudes) often far more, at random places; a branch per entry or per
// group would mispredict on each of them. Every entry is stored where the next inside
// one goes, and the count moves on only for an inside one. bits(i): entry i's |x| pattern.
template <typename Bits>
void scan_one_by_one(const Bracket& bracket, size_t from, size_t n, Bits bits, Inside& in) {
  const uint32_t lo = bracket.lo, width = bracket.hi - bracket.lo;
  uint64_t above = in.above;
  size_t count = in.count;
  uint32_t largest = in.largest;
  for (size_t i = from; i < n; ++i) {
    const uint32_t b = bits(i);
    above += b > bracket.hi;
    in.values[count] = b;
    count += b - lo <= width;  // lo <= b <= hi, as one unsigned comparison
    largest = std::max(largest, b);
  }
  in.above = above;
  in.count = count;
  in.largest = largest;
}

#ifdef __wasm_simd128__
// The same four lanes at a time, for entries [0, n & ~3): four(i) gives entries i..i+3's
// |x| patterns. Returns where it stopped.
template <typename Four>
size_t scan_four_at_a_time(const Bracket& bracket, size_t n, Four four, Inside& in) {
  static const LanePacking packing;
  const uint32_t lo = bracket.lo, width = bracket.hi - bracket.lo;
  const v128_t hi_v = wasm_i32x4_splat(static_cast<int32_t>(bracket.hi)),
               lo_v = wasm_i32x4_splat(static_cast<int32_t>(lo)),
               width_v = wasm_i32x4_splat(static_cast<int32_t>(width));
  v128_t above_v = wasm_i32x4_splat(0);  // per lane; a chunk has far fewer than 2^32 entries
  v128_t largest_v = wasm_i32x4_splat(0);
  uint32_t* inside = in.values;
  size_t count = in.count, i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t bits = four(i);
    above_v = wasm_i32x4_sub(above_v, wasm_u32x4_gt(bits, hi_v));  // a true lane is -1
    const int lanes = wasm_i32x4_bitmask(wasm_u32x4_le(wasm_i32x4_sub(bits, lo_v), width_v));
    wasm_v128_store(inside + count, wasm_i8x16_swizzle(bits, packing.shuffle[lanes]));
    count += static_cast<size_t>(__builtin_popcount(static_cast<unsigned>(lanes)));
    largest_v = wasm_u32x4_max(largest_v, bits);
  }
  in.above += static_cast<uint64_t>(wasm_u32x4_extract_lane(above_v, 0)) + wasm_u32x4_extract_lane(above_v, 1) +
              wasm_u32x4_extract_lane(above_v, 2) + wasm_u32x4_extract_lane(above_v, 3);
  in.count = count;
  in.largest = std::max({in.largest, wasm_u32x4_extract_lane(largest_v, 0), wasm_u32x4_extract_lane(largest_v, 1),
                         wasm_u32x4_extract_lane(largest_v, 2), wasm_u32x4_extract_lane(largest_v, 3)});
  return i;
}

inline v128_t magnitude_bits4(v128_t x) { return wasm_v128_and(x, wasm_i32x4_splat(0x7FFFFFFF)); }
#endif

// The chunk's part: distinct values with counts, in a small open-addressing table, while
// there are at most kDistinct of them (half its slots); past that, one by one.
BracketPart collected(const Inside& in) {
  BracketPart part;
  part.above = in.above;
  part.nonfinite = in.largest >= 0x7F800000u;  // an all-ones exponent: NaN or infinity
  constexpr size_t kSlots = 128, kDistinct = kSlots / 2;
  constexpr uint32_t kEmpty = 0xFFFFFFFFu;  // no |x| pattern: the sign bit is clear
  uint32_t keys[kSlots], counts[kSlots];
  std::fill(keys, keys + kSlots, kEmpty);
  size_t distinct = 0;
  for (size_t j = 0; j < in.count; ++j) {
    const uint32_t v = in.values[j];
    size_t slot = (v * 0x9E3779B1u) >> 25;  // 7 bits: kSlots
    while (keys[slot] != kEmpty && keys[slot] != v) slot = (slot + 1) % kSlots;
    if (keys[slot] == kEmpty) {
      if (distinct == kDistinct) {
        part.values.assign(in.values, in.values + in.count);
        return part;
      }
      keys[slot] = v;
      counts[slot] = 0;
      ++distinct;
    }
    ++counts[slot];
  }
  for (size_t slot = 0; slot < kSlots; ++slot)
    if (keys[slot] != kEmpty) {
      part.values.push_back(keys[slot]);
      part.counts.push_back(counts[slot]);
    }
  return part;
}

}  // namespace

BracketPart scan_bracket(const Bracket& bracket, const float* values, size_t n) {
  Inside in = start_scan(n);
  size_t i = 0;
#ifdef __wasm_simd128__
  i = scan_four_at_a_time(
      bracket, n, [values](size_t at) { return magnitude_bits4(wasm_v128_load(values + at)); }, in);
#endif
  scan_one_by_one(bracket, i, n, [values](size_t at) { return magnitude_bits(values[at]); }, in);
  return collected(in);
}

// In wasm, f16, bf16 and f32 inputs are converted and the base subtracted four lanes at a
// time on the way into the scan: the same operations as to_f32_minus, without storing
// the δ and reading them back (TIES' first pass, a third of its time in bf16).
BracketPart scan_bracket(const Bracket& bracket, DType t, const uint8_t* raw, const float* base, size_t n) {
#ifdef __wasm_simd128__
  auto tail = [&](size_t from, Inside& in) {  // the last n % 4 entries, converted one by one
    float v[4];
    const size_t size = dtype_size(t);
    to_f32_minus_base(t, raw + from * size, base ? base + from : nullptr, v, n - from);
    scan_one_by_one(bracket, from, n, [&](size_t at) { return magnitude_bits(v[at - from]); }, in);
  };
  auto scan = [&](auto load_f32x4) {
    Inside in = start_scan(n);
    const size_t done = scan_four_at_a_time(
        bracket, n,
        [&](size_t at) {
          const v128_t x = load_f32x4(at);
          return magnitude_bits4(base ? wasm_f32x4_sub(x, wasm_v128_load(base + at)) : x);
        },
        in);
    tail(done, in);
    return collected(in);
  };
  switch (t) {
    case DType::BF16:
      return scan([raw](size_t at) { return simd::load_bf16x4(raw + 2 * at); });
    case DType::F16:
      return scan([raw](size_t at) { return simd::load_f16x4(raw + 2 * at); });
    case DType::F32: return scan([raw](size_t at) { return wasm_v128_load(raw + 4 * at); });
    default: break;
  }
#endif
  return scan_bracket(bracket, converted_input(t, raw, base, n), n);  // converted first, then scanned
}

void BracketCollect::add(const BracketPart& part) {
  above_ += part.above;
  for (size_t i = 0; i < part.values.size(); ++i) inside_ += part.count(i);
  if (!overflow_ && values_.size() + part.values.size() > max_values_) {
    overflow_ = true;
    values_ = std::vector<uint32_t>();
    counts_ = std::vector<uint32_t>();
    chunk_end_ = std::vector<uint64_t>();
  }
  if (overflow_) return;
  values_.insert(values_.end(), part.values.begin(), part.values.end());
  for (size_t i = 0; i < part.values.size(); ++i) counts_.push_back(part.count(i));
  chunk_end_.push_back(values_.size());
}

bool BracketCollect::hit() const { return !overflow_ && keep_ > above_ && keep_ - above_ <= inside_; }

// The same radix select as the tally passes, over the collected patterns only.
MagnitudeCut BracketCollect::cut() const {
  RadixSelect select(inside_, keep_ - above_, true);  // the cut is the (keep − above)-th largest inside
  RadixSelect::Histogram high(RadixSelect::kBins), low(RadixSelect::kBins);
  for (size_t i = 0; i < values_.size(); ++i) high[values_[i] >> 16] += counts_[i];
  select.finish_high_pass(high);
  for (size_t i = 0; i < values_.size(); ++i)
    if ((values_[i] >> 16) == select.prefix()) low[values_[i] & 0xFFFF] += counts_[i];
  return select.finish_low_pass(low);
}

std::vector<uint64_t> BracketCollect::ties_per_chunk(uint32_t threshold) const {
  std::vector<uint64_t> ties(chunk_end_.size());
  uint64_t begin = 0;
  for (size_t c = 0; c < chunk_end_.size(); ++c) {
    for (uint64_t i = begin; i < chunk_end_[c]; ++i)
      if (values_[i] == threshold) ties[c] += counts_[i];
    begin = chunk_end_[c];
  }
  return ties;
}

}  // namespace wasmerge
