#include "wasmerge/sparsify.hpp"

#include <cmath>

namespace wasmerge {

uint64_t splitmix64(uint64_t x) {
  uint64_t z = x + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

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

RadixSelect::RadixSelect(uint64_t n, uint64_t keep) : n_(n), keep_(keep) {}

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
  cut.keep_all = keep_ >= n_;
  cut.keep_none = keep_ == 0 && n_ > 0;
  if (n_ == 0) cut.keep_all = true;
  return cut;
}

}  // namespace wasmerge
