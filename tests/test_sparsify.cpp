// The DARE mask against the SPEC's independently computed vectors, its kept fraction,
// the radix select and the bracket select against a sort, and the election kernel
// against its scalar twin.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>

#include "dare_mask_json.hpp"
#include "passes/bracket_select.hpp"
#include "wasmerge/convert.hpp"
#include "wasmerge/kernels.hpp"
#include "wasmerge/sparsify.hpp"

using namespace wasmerge;

namespace {
uint64_t hex(const nlohmann::json& v) { return std::stoull(v.get<std::string>(), nullptr, 16); }
const nlohmann::json& vectors() {
  static const nlohmann::json v = nlohmann::json::parse(kDareMaskJson);
  return v;
}
}  // namespace

TEST_CASE("splitmix64 and fnv1a64 match the SPEC vectors") {
  for (const auto& c : vectors()["splitmix64"]) CHECK(splitmix64(hex(c["x"])) == hex(c["out"]));
  for (const auto& c : vectors()["fnv1a64"]) CHECK(fnv1a64(c["s"].get<std::string>()) == hex(c["out"]));
  CHECK(vectors()["fnv1a64"].size() == 5);
}

TEST_CASE("DARE stream, draw, top 24 bits and keep decision match the SPEC vectors") {
  REQUIRE(vectors()["mask"].size() == 15);
  for (const auto& c : vectors()["mask"]) {
    const uint64_t stream = dare_stream(c["seed"].get<uint64_t>(), c["name"].get<std::string>(), c["model_index"].get<uint64_t>());
    CHECK(stream == hex(c["stream"]));
    const uint64_t index = c["index"].get<uint64_t>();
    CHECK(splitmix64(stream + index) == hex(c["u"]));
    CHECK((splitmix64(stream + index) >> 40) == c["top24"].get<uint64_t>());
    for (const auto& [density, keep] : c["keep_at_density"].items())
      CHECK(dare_keep(stream, index, dare_threshold(std::stod(density))) == keep.get<bool>());
  }
}

TEST_CASE("DARE keeps the density's fraction over 10^7 draws") {
  const uint64_t stream = dare_stream(7, "model.layers.0.mlp.up_proj.weight", 1);
  for (double d : {0.1, 0.5, 0.9}) {
    const uint32_t threshold = dare_threshold(d);
    uint64_t kept = 0;
    for (uint64_t i = 0; i < 10'000'000; ++i) kept += dare_keep(stream, i, threshold);
    const double sigma = std::sqrt(d * (1 - d) / 1e7);
    CHECK(std::fabs(kept / 1e7 - d) < 5 * sigma);
  }
  CHECK(dare_threshold(1.0) == 16777216u);  // d = 1 keeps every draw (top24 < 2^24)
  CHECK(dare_threshold(0.5) == 8388608u);
}

TEST_CASE("magnitude keep count is floor(d·n)") {
  CHECK(magnitude_keep_count(0.5, 7) == 3);
  CHECK(magnitude_keep_count(0.1, 9) == 0);
  CHECK(magnitude_keep_count(1.0, 9) == 9);
  CHECK(magnitude_keep_count(0.3, 10) == 3);
}

// Reference: sort indices by (|x| desc, index asc), keep the first k, zero the rest.
std::vector<float> masked_by_sort(const std::vector<float>& x, uint64_t k) {
  std::vector<size_t> order(x.size());
  for (size_t i = 0; i < x.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return std::fabs(x[a]) > std::fabs(x[b]); });
  std::vector<float> out(x.size(), 0.0f);
  for (uint64_t i = 0; i < k; ++i) out[order[i]] = x[order[i]];
  return out;
}

// The engine's way: two histogram passes, then the mask applied in two pieces, the
// second told how many ties the first held (as blocks are).
std::vector<float> masked_by_radix(const std::vector<float>& x, uint64_t k) {
  RadixSelect select(x.size(), k);
  MagnitudeCut cut = select.trivial_cut();
  if (select.needs_passes()) {
    RadixSelect::Histogram high(RadixSelect::kBins, 0), low(RadixSelect::kBins, 0);
    for (float v : x) ++high[magnitude_bits(v) >> 16];
    select.finish_high_pass(high);
    for (float v : x)
      if ((magnitude_bits(v) >> 16) == select.prefix()) ++low[magnitude_bits(v) & 0xFFFF];
    cut = select.finish_low_pass(low);
  }
  std::vector<float> out = x;
  const size_t half = x.size() / 3;
  magnitude_mask(cut, out.data(), half, 0);
  uint64_t ties = 0;
  for (size_t i = 0; i < half; ++i) ties += magnitude_bits(x[i]) == cut.threshold;
  magnitude_mask(cut, out.data() + half, x.size() - half, ties);
  return out;
}

size_t nonzero(const std::vector<float>& v) { return static_cast<size_t>(std::count_if(v.begin(), v.end(), [](float f) { return f != 0; })); }

TEST_CASE("radix select keeps exactly the entries a sort keeps: distinct, heavy ties, zeros, signs") {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  for (int trial = 0; trial < 40; ++trial) {
    const size_t n = 1 + rng() % 3000;
    std::vector<float> x(n);
    for (auto& v : x) {
      switch (trial % 4) {
        case 0: v = normal(rng); break;                                        // distinct
        case 1: v = static_cast<float>(static_cast<int>(rng() % 7) - 3); break;  // heavy ties, zeros
        case 2: v = (rng() % 2 ? -1.0f : 1.0f) * 0.25f; break;                 // all tied
        default: v = rng() % 5 == 0 ? normal(rng) * 1e-30f : -0.0f;            // tiny and negative zero
      }
    }
    for (double d : {0.0001, 0.1, 0.5, 0.9, 0.99, 1.0}) {
      const uint64_t k = magnitude_keep_count(d, n);
      const auto expected = masked_by_sort(x, k);
      const auto got = masked_by_radix(x, k);
      for (size_t i = 0; i < n; ++i) REQUIRE(got[i] == expected[i]);  // -0 and +0 alike: both drop to zero
      if (trial % 4 != 3) REQUIRE(nonzero(got) == std::min<uint64_t>(k, nonzero(x)));
    }
  }
}

// The bracket's cut and per-chunk ties against a sort and a count, for brackets from a
// good sample, from a sample of other values (a miss: it must say so), and too small.
TEST_CASE("bracket select: the cut a sort gives, the ties of each chunk, and misses reported") {
  std::mt19937 rng(8);
  std::normal_distribution<float> normal;
  int misses = 0;
  for (int trial = 0; trial < 24; ++trial) {
    const size_t n = 5000 + rng() % 20000, chunk = 1000 + rng() % 3000;
    std::vector<float> x(n);
    for (auto& v : x) v = trial % 3 == 0 ? normal(rng) : static_cast<float>(static_cast<int>(rng() % 41) - 20) / 8;
    for (double d : {0.05, 0.3, 0.7}) {
      const uint64_t keep = magnitude_keep_count(d, n);
      // The keep-th largest |x| and how many entries equal it, by sorting.
      std::vector<uint32_t> sorted(n);
      for (size_t i = 0; i < n; ++i) sorted[i] = magnitude_bits(x[i]);
      std::sort(sorted.begin(), sorted.end(), std::greater<uint32_t>());
      const uint32_t threshold = sorted[keep - 1];
      const auto equal = static_cast<uint64_t>(std::count(sorted.begin(), sorted.end(), threshold));
      const auto larger = static_cast<uint64_t>(std::count_if(sorted.begin(), sorted.end(), [&](uint32_t b) { return b > threshold; }));
      for (int sampling = 0; sampling < 4; ++sampling) {
        std::vector<uint32_t> sample;
        if (sampling == 0 || sampling == 3)  // every 7th entry: representative (3: with room for one entry)
          for (size_t i = 0; i < n; i += 7) sample.push_back(magnitude_bits(x[i]));
        else if (sampling == 1)  // values far below everything: the cut lies above the bracket
          for (size_t i = 0; i < 500; ++i) sample.push_back(magnitude_bits(1e-30f * static_cast<float>(i)));
        else  // far above: below it
          for (size_t i = 0; i < 500; ++i) sample.push_back(magnitude_bits(1e30f * static_cast<float>(i + 1)));
        const Bracket bracket = bracket_from_sample(sample, keep, n);
        BracketCollect collect(bracket, keep, sampling == 3 ? 1 : n);
        for (size_t first = 0; first < n; first += chunk)
          collect.add(scan_bracket(bracket, x.data() + first, std::min(chunk, n - first)));
        const bool contains = bracket.lo <= threshold && threshold <= bracket.hi;
        INFO("trial " << trial << " d " << d << " sampling " << sampling);
        REQUIRE(collect.hit() == (contains && sampling != 3));
        if (sampling == 0) REQUIRE(contains);  // five standard deviations
        misses += !contains;
        if (!collect.hit()) continue;
        const MagnitudeCut cut = collect.cut();
        CHECK(cut.threshold == threshold);
        CHECK(cut.equal_total == equal);
        CHECK(cut.equal_keep == keep - larger);
        const auto ties = collect.ties_per_chunk(threshold);
        REQUIRE(ties.size() == (n + chunk - 1) / chunk);
        for (size_t c = 0; c < ties.size(); ++c) {
          uint64_t own = 0;
          for (size_t i = c * chunk; i < std::min(n, (c + 1) * chunk); ++i) own += magnitude_bits(x[i]) == threshold;
          REQUIRE(ties[c] == own);
        }
      }
    }
  }
  CHECK(misses > 24);  // the unrepresentative samples do miss
}

// The scan that converts as it goes (TIES' first pass reads the models' bytes) against the
// scan of δ converted and subtracted here, per dtype, with and without a base, for lengths
// around the four-lane steps. Few distinct values: many land inside the bracket, as ties.
TEST_CASE("bracket scan of raw f16, bf16, f32 and f64 models equals the scan of their δ") {
  std::mt19937 rng(21);
  auto same = [](const BracketPart& a, const BracketPart& b) {
    return a.above == b.above && a.values == b.values && a.counts == b.counts && a.nonfinite == b.nonfinite;
  };
  for (DType t : {DType::BF16, DType::F16, DType::F32, DType::F64}) {
    for (size_t n : {0, 1, 3, 4, 5, 7, 8, 9, 1001, 16384}) {
      std::vector<float> model(n), base(n);
      const int distinct = n > 1000 ? 300 : 40;  // 300: too many for the chunk's table of distinct values
      for (size_t i = 0; i < n; ++i) {
        model[i] = static_cast<float>(static_cast<int>(rng() % distinct) - distinct / 2) / 16;
        base[i] = static_cast<float>(static_cast<int>(rng() % 5) - 2) / 4;
      }
      // The model's bytes in dtype t, and the f32 values those bytes hold.
      std::vector<uint8_t> raw(n * dtype_size(t));
      std::vector<float> held(n);
      for (size_t i = 0; i < n; ++i) {
        uint32_t bits;
        std::memcpy(&bits, &model[i], 4);
        if (t == DType::BF16 || t == DType::F16) {
          // model[i] is a multiple of 1/16 below 20: exact in both half formats.
          const uint16_t h = t == DType::BF16 ? static_cast<uint16_t>(bits >> 16) : scalar::f32_to_f16(model[i]);
          std::memcpy(&raw[2 * i], &h, 2);
          held[i] = t == DType::BF16 ? scalar::bf16_to_f32(h) : scalar::f16_to_f32(h);
        } else if (t == DType::F32) {
          std::memcpy(&raw[4 * i], &model[i], 4);
          held[i] = model[i];
        } else {
          const double d = static_cast<double>(model[i]);
          std::memcpy(&raw[8 * i], &d, 8);
          held[i] = model[i];
        }
        REQUIRE(held[i] == model[i]);
      }
      for (bool with_base : {true, false}) {
        std::vector<float> delta(n);
        for (size_t i = 0; i < n; ++i) delta[i] = with_base ? held[i] - base[i] : held[i];
        std::vector<uint32_t> sample;
        for (size_t i = 0; i < n; i += 3) sample.push_back(magnitude_bits(delta[i]));
        for (const Bracket& bracket : {bracket_from_sample(sample, n / 3 + 1, n), Bracket{}, Bracket{0x7F000000u, 0x7F000001u}}) {
          INFO(dtype_name(t) << " n " << n << " base " << with_base << " bracket " << bracket.lo << ".." << bracket.hi);
          const BracketPart expected = scan_bracket(bracket, delta.data(), n);
          CHECK(same(scan_bracket(bracket, t, raw.data(), with_base ? base.data() : nullptr, n), expected));
        }
      }
    }
  }
}

TEST_CASE("elect_and_merge equals its scalar twin, normalize on and off") {
  std::mt19937 rng(11);
  for (size_t n : {0, 1, 3, 4, 5, 8, 13, 1000}) {
    for (size_t models : {1, 2, 3, 5}) {
      std::vector<std::vector<float>> omega(models, std::vector<float>(n));
      for (auto& row : omega)
        for (auto& v : row) v = static_cast<float>(static_cast<int>(rng() % 9) - 4) * 0.5f;  // zeros and ties of the sum
      std::vector<const float*> rows;
      for (auto& row : omega) rows.push_back(row.data());
      const std::vector<float> weights = {1.0f, -0.5f, 0.75f, 2.0f, 0.0f};
      for (bool normalize : {false, true}) {
        std::vector<float> a(n), b(n), scratch(2 * n);
        elect_and_merge(a.data(), rows.data(), weights.data(), models, normalize, n, scratch.data());
        scalar::elect_and_merge(b.data(), rows.data(), weights.data(), models, normalize, n, scratch.data());
        REQUIRE((n == 0 || std::memcmp(a.data(), b.data(), n * 4) == 0));
      }
    }
  }
}

// The stages one after another over whole arrays, written plainly: the mask by a bit
// threshold and by kept flags (none: all kept), the rescale (skipped at 1), the weight,
// then the election.
std::vector<float> staged_election(std::vector<std::vector<float>> delta, const std::vector<uint32_t>& min_bits,
                                   const std::vector<std::vector<bool>>& kept, const std::vector<float>& rescales,
                                   const std::vector<float>& weights, bool normalize) {
  const size_t n = delta[0].size();
  std::vector<const float*> rows;
  for (size_t k = 0; k < delta.size(); ++k) {
    for (size_t i = 0; i < n; ++i) {
      float& x = delta[k][i];
      float kept_x = magnitude_bits(x) >= min_bits[k] && (kept[k].empty() || kept[k][i]) ? x : 0.0f;
      if (rescales[k] != 1.0f) kept_x = rescales[k] * kept_x;
      x = weights[k] * kept_x;
    }
    rows.push_back(delta[k].data());
  }
  std::vector<float> mixed(n), scratch(2 * n);
  scalar::elect_and_merge(mixed.data(), rows.data(), weights.data(), delta.size(), normalize, n, scratch.data());
  return mixed;
}

TEST_CASE("weigh_elect_and_merge gives the bits of masking, rescaling, weighting and electing in turn") {
  std::mt19937 rng(17);
  for (size_t n : {1, 3, 4, 5, 8, 13, 1000}) {
    for (size_t models : {1, 2, 3, 4, 5, 17}) {  // 1-4 unrolled; 17: more than the vector version holds
      std::vector<std::vector<float>> delta(models, std::vector<float>(n));
      std::vector<uint32_t> min_bits;
      std::vector<std::vector<bool>> kept(models);
      std::vector<std::vector<uint8_t>> kept_bits(models);  // kept, packed as DARE records it
      std::vector<float> rescales, weights;
      for (size_t k = 0; k < models; ++k) {
        for (auto& v : delta[k]) v = static_cast<float>(static_cast<int>(rng() % 9) - 4) * 0.5f;  // ties, zeros, -0 below
        delta[k][rng() % n] = -0.0f;
        const uint32_t choice = rng() % 4;  // keep all, keep none, or a threshold among the values
        min_bits.push_back(choice == 0 ? 0u : choice == 1 ? 0xFFFFFFFFu : magnitude_bits(delta[k][rng() % n]));
        if (rng() % 2) {
          kept_bits[k].assign((n + 7) / 8, 0);
          for (size_t i = 0; i < n; ++i) {
            kept[k].push_back(rng() % 3 != 0);
            kept_bits[k][i / 8] = static_cast<uint8_t>(kept_bits[k][i / 8] | kept[k][i] << (i % 8));
          }
        }
        rescales.push_back(rng() % 2 ? 1.0f : 1.75f);
        const float some_weights[] = {1.0f, -0.5f, 0.75f, 0.0f, 0.3f};
        weights.push_back(some_weights[rng() % 5]);
      }
      for (bool normalize : {false, true}) {
        const std::vector<float> expected = staged_election(delta, min_bits, kept, rescales, weights, normalize);
        for (bool vector : {true, false}) {
          std::vector<std::vector<float>> copy = delta;
          std::vector<WeighedDelta> in;
          for (size_t k = 0; k < models; ++k)
            in.push_back({copy[k].data(), min_bits[k], kept[k].empty() ? nullptr : kept_bits[k].data(), rescales[k],
                          weights[k]});
          std::vector<float> got(n), scratch(2 * n);
          if (vector) weigh_elect_and_merge(got.data(), in.data(), models, normalize, n, scratch.data());
          else scalar::weigh_elect_and_merge(got.data(), in.data(), models, normalize, n, scratch.data());
          REQUIRE(std::memcmp(got.data(), expected.data(), n * 4) == 0);
        }
        // Every other model as bf16 and a base, converted on the way in: m = δ + b is exact
        // in bf16 (a multiple of 1/4 below 4), and δ = m − b as the test computes it here.
        std::vector<float> base(n);
        for (auto& v : base) v = static_cast<float>(static_cast<int>(rng() % 9) - 4) * 0.25f;
        std::vector<std::vector<uint8_t>> raw(models, std::vector<uint8_t>(2 * n));
        std::vector<std::vector<float>> converted = delta;
        std::vector<WeighedDelta> in;
        for (size_t k = 0; k < models; ++k) {
          in.push_back({converted[k].data(), min_bits[k], kept[k].empty() ? nullptr : kept_bits[k].data(), rescales[k],
                        weights[k]});
          if (k % 2) continue;
          for (size_t i = 0; i < n; ++i) {
            const float m = delta[k][i] + base[i];
            uint32_t bits;
            std::memcpy(&bits, &m, 4);
            REQUIRE((bits & 0xFFFF) == 0);
            const uint16_t half = static_cast<uint16_t>(bits >> 16);
            std::memcpy(&raw[k][2 * i], &half, 2);
            converted[k][i] = m - base[i];
          }
          in.back().delta = nullptr;
          in.back().bf16 = raw[k].data();
          in.back().base = base.data();
        }
        const std::vector<float> expected_raw = staged_election(converted, min_bits, kept, rescales, weights, normalize);
        std::vector<float> got(n), scratch(2 * n);
        weigh_elect_and_merge(got.data(), in.data(), models, normalize, n, scratch.data());
        REQUIRE(std::memcmp(got.data(), expected_raw.data(), n * 4) == 0);
      }
    }
  }
}

TEST_CASE("weigh_elect_and_merge by hand: a cut at |x| >= 1, kept bits, a rescale, the weights") {
  float d0[] = {0.5f, -2.0f, 3.0f, -1.0f, 0, 0, 0, 0};
  float d1[] = {-4.0f, 0.25f, -1.0f, 2.0f, 0, 0, 0, 0};
  float d2[] = {1.0f, -8.0f, 1.0f, 1.0f, 0, 0, 0, 0};
  const uint8_t drawn[] = {0x0A};  // entries 1 and 3
  const WeighedDelta in[] = {
      {d0, magnitude_bits(1.0f), nullptr, 2.0f, 1.0f}, {d1, 0, nullptr, 1.0f, 0.5f}, {d2, 0, drawn, 1.0f, 1.0f}};
  float mixed[8], scratch[16];
  weigh_elect_and_merge(mixed, in, 3, true, 8, scratch);
  // ω0 = {0, -4, 6, -2}; ω1 = {-2, 0.125, -0.5, 1}; ω2 = {0, -8, 0, 1}
  CHECK(mixed[0] == -2.0f / 0.5f);            // sum −2: only model 1 agrees
  CHECK(mixed[1] == (-4.0f + -8.0f) / 2.0f);  // sum −11.875: models 0 and 2
  CHECK(mixed[2] == 6.0f);                    // sum 5.5: model 0 alone
  CHECK(mixed[3] == 2.0f / 1.5f);             // sum 0 counts as +: models 1 and 2
}

// Where magnitude_min_bits gives a threshold for a span, that threshold masks it as
// magnitude_mask does; across the spans of a heavily tied tensor both answers occur.
TEST_CASE("magnitude_min_bits agrees with magnitude_mask, and declines only spans across a tie's end") {
  std::mt19937 rng(19);
  size_t thresholds = 0, declined = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const size_t n = 50 + rng() % 3000;
    std::vector<float> x(n);
    for (auto& v : x) v = static_cast<float>(static_cast<int>(rng() % 7) - 3);
    RadixSelect select(n, magnitude_keep_count(0.05 + 0.9 * (rng() % 100) / 100.0, n));
    RadixSelect::Histogram high(RadixSelect::kBins, 0), low(RadixSelect::kBins, 0);
    for (float v : x) ++high[magnitude_bits(v) >> 16];
    select.finish_high_pass(high);
    for (float v : x)
      if ((magnitude_bits(v) >> 16) == select.prefix()) ++low[magnitude_bits(v) & 0xFFFF];
    MagnitudeCut cut = select.finish_low_pass(low);
    cut.ties_to_higher = trial % 2;
    uint64_t ties = 0;
    for (size_t first = 0; first < n;) {
      const size_t count = std::min<size_t>(n - first, 1 + rng() % 200);
      std::vector<float> by_mask(x.begin() + first, x.begin() + first + count), by_bits = by_mask;
      magnitude_mask(cut, by_mask.data(), count, ties);
      uint32_t min_bits;
      // The span's ties counted beforehand, without its values: the same answer.
      uint64_t here = 0;
      for (size_t i = first; i < first + count; ++i) here += magnitude_bits(x[i]) == cut.threshold;
      uint32_t min_bits_counted = 0;
      const bool counted = magnitude_min_bits(cut, nullptr, count, ties, &min_bits_counted, &here);
      REQUIRE(counted == magnitude_min_bits(cut, by_bits.data(), count, ties, &min_bits));
      if (counted) REQUIRE(min_bits_counted == min_bits);
      if (magnitude_min_bits(cut, by_bits.data(), count, ties, &min_bits)) {
        ++thresholds;
        for (float& v : by_bits) v = magnitude_bits(v) >= min_bits ? v : 0.0f;
        REQUIRE(std::memcmp(by_bits.data(), by_mask.data(), count * 4) == 0);
      } else {
        ++declined;
      }
      for (size_t i = first; i < first + count; ++i) ties += magnitude_bits(x[i]) == cut.threshold;
      first += count;
    }
  }
  CHECK(thresholds > 500);
  CHECK(declined > 30);
}

TEST_CASE("elect_and_merge by hand: sum elects the sign, zeros never agree, divisor of 0 becomes 1") {
  const float w0[] = {1.0f, -2.0f, 0.0f, 3.0f};
  const float w1[] = {2.0f, 1.0f, 0.0f, -3.0f};
  const float w2[] = {-1.0f, 0.0f, 0.0f, 0.0f};
  const float* rows[] = {w0, w1, w2};
  const float weights[] = {1.0f, 1.0f, 1.0f};
  float mixed[4], scratch[8];
  scalar::elect_and_merge(mixed, rows, weights, 3, true, 4, scratch);
  CHECK(mixed[0] == 1.5f);   // sum 2 ≥ 0: models 0, 1 agree: (1+2)/2
  CHECK(mixed[1] == -2.0f);  // sum −1: only model 0 agrees: −2/1
  CHECK(mixed[2] == 0.0f);   // all zero: nobody agrees, divisor 0 -> 1
  CHECK(mixed[3] == 3.0f);   // sum 0 counts as +: model 0 agrees
  scalar::elect_and_merge(mixed, rows, weights, 3, false, 4, scratch);
  CHECK(mixed[0] == 3.0f);
}

TEST_CASE("abs_sum equals its scalar twin bit for bit and the plain f64 sum closely") {
  std::mt19937 rng(13);
  std::normal_distribution<float> normal;
  for (size_t n : {0, 1, 7, 8, 9, 15, 16, 17, 1000, 16384}) {
    std::vector<float> x(n);
    for (auto& v : x) v = normal(rng) * std::exp2(static_cast<float>(rng() % 30) - 15);
    const double vec = abs_sum(x.data(), n), ref = scalar::abs_sum(x.data(), n);
    REQUIRE(std::memcmp(&vec, &ref, 8) == 0);
    double plain = 0;
    for (float v : x) plain += std::fabs(static_cast<double>(v));
    REQUIRE(std::fabs(vec - plain) <= 1e-12 * plain);
  }
  const float by_hand[] = {1, -2, 3, -4, 5, -6, 7, -8, 9.5f};
  CHECK(scalar::abs_sum(by_hand, 9) == 45.5);
}

TEST_CASE("pack_flags puts flag i in bit i % 8 of byte i / 8, and unpack_flags gives it back") {
  std::mt19937 rng(29);
  for (size_t n : {0, 1, 7, 8, 9, 15, 16, 17, 1000}) {
    std::vector<uint8_t> flags(n), back(n), bits((n + 7) / 8, 0xAA);
    for (auto& f : flags) f = rng() % 2;
    pack_flags(flags.data(), n, bits.data());
    for (size_t i = 0; i < n; ++i) REQUIRE((bits[i / 8] >> (i % 8) & 1) == flags[i]);
    unpack_flags(bits.data(), n, back.data());
    REQUIRE(back == flags);
  }
}

// Both sums of abs_sums_kept are abs_sum's bits: of x, and of x masked as apply_kept does.
TEST_CASE("abs_sums_kept gives abs_sum of x and of x masked, vector and scalar") {
  std::mt19937 rng(23);
  std::normal_distribution<float> normal;
  for (size_t n : {0, 1, 7, 8, 9, 15, 16, 17, 1000, 16384}) {
    std::vector<float> x(n);
    std::vector<uint8_t> kept(n);
    for (size_t i = 0; i < n; ++i) {
      x[i] = rng() % 10 == 0 ? -0.0f : normal(rng) * std::exp2(static_cast<float>(rng() % 30) - 15);
      kept[i] = rng() % 3 != 0;
    }
    std::vector<float> masked = x;
    apply_kept(kept.data(), masked.data(), n);
    const double all = abs_sum(x.data(), n), kept_sum = abs_sum(masked.data(), n);
    for (bool vector : {true, false}) {
      double got_all = -1, got_kept = -1;
      if (vector) abs_sums_kept(x.data(), kept.data(), n, &got_all, &got_kept);
      else scalar::abs_sums_kept(x.data(), kept.data(), n, &got_all, &got_kept);
      REQUIRE(std::memcmp(&got_all, &all, 8) == 0);
      REQUIRE(std::memcmp(&got_kept, &kept_sum, 8) == 0);
    }
    // From bf16 bytes and a base (converted on the way in), and from f32 bytes without one:
    // the sums of the δ the test computes.
    std::vector<float> base(n), delta(n);
    std::vector<uint8_t> bf16(2 * n), f32(4 * n);
    for (size_t i = 0; i < n; ++i) {
      uint32_t bits;
      std::memcpy(&bits, &x[i], 4);
      const uint16_t half = static_cast<uint16_t>(bits >> 16);  // x truncated to bf16
      std::memcpy(&bf16[2 * i], &half, 2);
      base[i] = static_cast<float>(static_cast<int>(rng() % 7) - 3) / 8;
      const uint32_t widened = static_cast<uint32_t>(half) << 16;
      float m;
      std::memcpy(&m, &widened, 4);
      delta[i] = m - base[i];
    }
    if (n) std::memcpy(f32.data(), x.data(), 4 * n);
    double delta_all = 0, delta_kept = 0, got_all = -1, got_kept = -1;
    abs_sums_kept(delta.data(), kept.data(), n, &delta_all, &delta_kept);
    abs_sums_kept(DType::BF16, bf16.data(), base.data(), kept.data(), n, &got_all, &got_kept);
    REQUIRE(std::memcmp(&got_all, &delta_all, 8) == 0);
    REQUIRE(std::memcmp(&got_kept, &delta_kept, 8) == 0);
    abs_sums_kept(DType::F32, f32.data(), nullptr, kept.data(), n, &got_all, &got_kept);
    REQUIRE(std::memcmp(&got_all, &all, 8) == 0);
    REQUIRE(std::memcmp(&got_kept, &kept_sum, 8) == 0);
  }
  const float by_hand[] = {1, -2, 3, -4, 5, -6, 7, -8, 9.5f};
  const uint8_t keep[] = {1, 0, 1, 0, 1, 0, 1, 0, 1};
  double all = 0, kept = 0;
  abs_sums_kept(by_hand, keep, 9, &all, &kept);
  CHECK(all == 45.5);
  CHECK(kept == 25.5);  // 1 + 3 + 5 + 7 + 9.5
}
