// Each arithmetic kernel against its scalar twin, bit for bit, over lengths that
// exercise the vector body and the tail.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "wasmerge/kernels.hpp"

using namespace wasmerge;

namespace {

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng) * std::exp2(static_cast<float>(rng() % 20) - 10);
  return v;
}

void require_same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  REQUIRE((a.empty() || std::memcmp(a.data(), b.data(), a.size() * 4) == 0));
}

const size_t kLengths[] = {0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 1000, 4099};

}  // namespace

TEST_CASE("subtract equals its scalar twin") {
  for (size_t n : kLengths) {
    auto x1 = random_floats(n, 1), x2 = x1;
    const auto b = random_floats(n, 2);
    subtract(x1.data(), b.data(), n);
    scalar::subtract(x2.data(), b.data(), n);
    require_same_bits(x1, x2);
  }
}

TEST_CASE("scale_into equals its scalar twin") {
  for (size_t n : kLengths) {
    const auto x = random_floats(n, 3);
    std::vector<float> a1(n), a2(n);
    scale_into(a1.data(), x.data(), -0.37f, n);
    scalar::scale_into(a2.data(), x.data(), -0.37f, n);
    require_same_bits(a1, a2);
  }
}

TEST_CASE("add_scaled equals its scalar twin (no fused multiply-add)") {
  for (size_t n : kLengths) {
    auto a1 = random_floats(n, 4), a2 = a1;
    const auto x = random_floats(n, 5);
    add_scaled(a1.data(), x.data(), 1.7f, n);
    scalar::add_scaled(a2.data(), x.data(), 1.7f, n);
    require_same_bits(a1, a2);
  }
}

TEST_CASE("add_scaled rounds the product before the sum") {
  // 1 + 2^-24 is not an f32; (1+2^-23)·(1-2^-23) = 1 - 2^-46 rounds to 1 before adding -1.
  float acc = -1.0f;
  const float x = 1.0f - std::ldexp(1.0f, -23);
  add_scaled(&acc, &x, 1.0f + std::ldexp(1.0f, -23), 1);
  CHECK(acc == 0.0f);  // an FMA would give -2^-46
}

TEST_CASE("divide equals its scalar twin") {
  for (size_t n : kLengths) {
    auto x1 = random_floats(n, 6), x2 = x1;
    divide(x1.data(), 3.0f, n);
    scalar::divide(x2.data(), 3.0f, n);
    require_same_bits(x1, x2);
  }
}

TEST_CASE("near_swap equals its scalar twin, NaN, infinities, zeros and equal values included") {
  for (size_t n : kLengths) {
    auto b = random_floats(n, 9), m = random_floats(n, 10);
    const float specials[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e-7f, 5e-7f};
    for (size_t i = 0; i < n; i += 5) {
      if (i % 3 == 0) b[i] = specials[i % 7];
      else if (i % 3 == 1) m[i] = specials[(i / 3) % 7];
      else m[i] = b[i] + specials[5 + i % 2];  // within the 1e-6 floor of the distance
    }
    for (float t : {0.0f, 0.001f, 0.5f, 1e30f}) {
      std::vector<float> o1(n), o2(n);
      near_swap(o1.data(), b.data(), m.data(), t, n);
      scalar::near_swap(o2.data(), b.data(), m.data(), t, n);
      for (size_t i = 0; i < n; ++i) {
        INFO("n " << n << " i " << i << " t " << t);
        if (std::isnan(o2[i])) REQUIRE(std::isnan(o1[i]));  // which NaN is the machine's choice
        else REQUIRE(std::memcmp(&o1[i], &o2[i], 4) == 0);
      }
    }
  }
}

TEST_CASE("near_swap by hand: a blend beyond t, the other model's value within it") {
  const float b[] = {1.0f, 1.0f, 2.0f, -1.0f, 3.0f};
  const float m[] = {3.0f, 1.25f, 2.0f, 1.0f, 3.0f};
  float out[5];
  near_swap(out, b, m, 0.5f, 5);
  CHECK(out[0] == 1.5f);   // |b − m| = 2: w = 0.25, 0.25·3 + 0.75·1
  CHECK(out[1] == 1.25f);  // 0.25 ≤ t: w = 1, m
  CHECK(out[2] == 2.0f);   // equal: the distance floors at 1e-6, w = 1
  CHECK(out[3] == -0.5f);  // |b − m| = 2: 0.25·1 + 0.75·(−1)
  CHECK(out[4] == 3.0f);
  near_swap(out, b, m, 0.0f, 5);
  CHECK(out[0] == 1.0f);  // t = 0: w = 0, the base
  CHECK(out[1] == 1.0f);
}

TEST_CASE("add_lambda_times equals its scalar twin") {
  for (size_t n : kLengths) {
    const auto b = random_floats(n, 7), m = random_floats(n, 8);
    std::vector<float> o1(n), o2(n);
    add_lambda_times(o1.data(), b.data(), m.data(), 0.6f, n);
    scalar::add_lambda_times(o2.data(), b.data(), m.data(), 0.6f, n);
    require_same_bits(o1, o2);
  }
}
