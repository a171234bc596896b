// DELLA's MagPrune (SPEC §6 "magprune"): within each row (the last dimension; a 1-D
// tensor is one row) an entry's rank r in ascending |δ| order, equal values by index,
// gives its keep probability p = (d − ε) + 2ε·r/(c − 1), so larger entries survive more
// often; the draw is DARE's counter stream (SPEC §2) against floor(p·2^24 + 0.5). Needs
// chunks of whole rows; the ranks are recomputed in every pass that masks.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "passes/sparsifier.hpp"
#include "wasmerge/sparsify.hpp"

namespace wasmerge {
namespace {

class MagPrune : public Sparsifier {
 public:
  explicit MagPrune(const SparsifyInput& in) : row_(in.row_length), streams_(in.dare_streams) {
    for (size_t k = 0; k < in.densities.size(); ++k) {
      const double d = in.densities[k], eps = in.params[k].at(0);
      keep_all_.push_back(d >= 1);
      keep_none_.push_back(d <= 0);
      std::vector<uint32_t> by_rank;  // the draw's threshold per rank
      if (d < 1 && d > 0)
        for (uint64_t r = 0; r < row_; ++r)
          by_rank.push_back(dare_threshold(
              row_ == 1 ? d : (d - eps) + 2 * eps * static_cast<double>(r) / static_cast<double>(row_ - 1)));
      thresholds_.push_back(std::move(by_rank));
    }
  }
  uint64_t row_length() const override { return row_; }
  void mask(const Chunk& chunk, size_t k, float* delta) const override {
    if (keep_all_[k]) return;
    if (keep_none_[k]) return std::fill(delta, delta + chunk.count, 0.0f);
    const size_t c = static_cast<size_t>(row_);
    thread_local std::vector<uint64_t> order;  // |δ| bits above, column below: sorts by (|δ|, index)
    order.resize(c);
    for (size_t row = 0; row < chunk.count; row += c) {
      float* x = delta + row;
      for (size_t j = 0; j < c; ++j) order[j] = (static_cast<uint64_t>(magnitude_bits(x[j])) << 32) | j;
      std::sort(order.begin(), order.end());
      const uint64_t first = chunk.first + row;
      for (size_t r = 0; r < c; ++r) {
        const size_t j = static_cast<size_t>(order[r] & 0xFFFFFFFFu);
        if (!dare_keep(streams_[k], first + j, thresholds_[k][r])) x[j] = 0.0f;
      }
    }
  }

 private:
  uint64_t row_;
  std::vector<uint64_t> streams_;
  std::vector<bool> keep_all_, keep_none_;
  std::vector<std::vector<uint32_t>> thresholds_;  // [model][rank]
};

ParamSpec epsilon_param() {
  return ParamSpec::number("epsilon", ParamSpec::Scope::PerModel, 0.15);
}

// mergekit's rule: the probabilities (d − ε) .. (d + ε) must be probabilities, unless d
// keeps all or none.
std::string check_epsilon(double density, const std::vector<double>& params) {
  const double eps = params.at(0);
  if (density >= 1 || density <= 0 || (density + eps < 1 && density - eps > 0)) return "";
  char text[160];
  std::snprintf(text, sizeof text, "density %g with epsilon %g: density ± epsilon must stay inside (0, 1)", density,
                eps);
  return text;
}

}  // namespace

const SparsifyRule& magprune_rule() {
  static const SparsifyRule rule{
      "magprune",
      {Fact::RowBlocks},
      {epsilon_param()},
      [](const SparsifyInput& in) -> std::unique_ptr<Sparsifier> { return std::make_unique<MagPrune>(in); },
      check_epsilon};
  return rule;
}

}  // namespace wasmerge
