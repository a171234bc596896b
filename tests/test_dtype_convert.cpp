// Conversions: the vector kernels against their scalar twins on every f16/bf16 pattern,
// and the scalar twins against values from the IEEE definitions (support.cpp).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "support.hpp"
#include "wasmerge/convert.hpp"

using namespace wasmerge;

namespace {

std::vector<uint8_t> all_half_patterns() {
  std::vector<uint8_t> bytes(65536 * 2);
  for (uint32_t h = 0; h < 65536; ++h) {
    bytes[2 * h] = static_cast<uint8_t>(h);
    bytes[2 * h + 1] = static_cast<uint8_t>(h >> 8);
  }
  return bytes;
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// The nearest half (by the decoder `value`) to x, ties to the even pattern: a brute
// reference over the two candidates that bracket x.
uint16_t nearest_half(double x, double (*value)(uint16_t), uint16_t lo, uint16_t hi) {
  const double dlo = std::fabs(x - value(lo)), dhi = std::fabs(x - value(hi));
  if (dlo != dhi) return dlo < dhi ? lo : hi;
  return (lo & 1) ? hi : lo;
}

std::vector<float> random_f32_patterns(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> out(n);
  for (auto& f : out) f = from_bits(rng());
  return out;
}

}  // namespace

TEST_CASE("bf16 -> f32: vector kernel equals scalar twin on all 65536 patterns") {
  const auto in = all_half_patterns();
  std::vector<float> vec(65536), ref(65536);
  to_f32(DType::BF16, in.data(), vec.data(), 65536);
  scalar::to_f32(DType::BF16, in.data(), ref.data(), 65536);
  for (uint32_t h = 0; h < 65536; ++h) REQUIRE(bits(vec[h]) == bits(ref[h]));
}

TEST_CASE("f16 -> f32: vector kernel equals scalar twin on all 65536 patterns") {
  const auto in = all_half_patterns();
  std::vector<float> vec(65536), ref(65536);
  to_f32(DType::F16, in.data(), vec.data(), 65536);
  scalar::to_f32(DType::F16, in.data(), ref.data(), 65536);
  for (uint32_t h = 0; h < 65536; ++h) REQUIRE(bits(vec[h]) == bits(ref[h]));
}

TEST_CASE("f16 -> f32: scalar twin matches the IEEE binary16 definition") {
  for (uint32_t h = 0; h < 65536; ++h) {
    const double expected = test::f16_bits_value(static_cast<uint16_t>(h));
    const float got = scalar::f16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(expected)) {
      REQUIRE(std::isnan(got));
    } else {
      REQUIRE(static_cast<double>(got) == expected);
      REQUIRE(std::signbit(got) == bool(h & 0x8000));
    }
  }
}

TEST_CASE("bf16 -> f32: scalar twin matches the definition") {
  for (uint32_t h = 0; h < 65536; ++h) {
    const double expected = test::bf16_bits_value(static_cast<uint16_t>(h));
    const float got = scalar::bf16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(expected)) REQUIRE(std::isnan(got));
    else REQUIRE(static_cast<double>(got) == expected);
  }
}

TEST_CASE("f32 -> f16 -> f32 round-trips every non-NaN f16 pattern") {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = scalar::f16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    REQUIRE(scalar::f32_to_f16(f) == h);
  }
}

TEST_CASE("f32 -> bf16 -> f32 round-trips every non-NaN bf16 pattern") {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = scalar::bf16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    REQUIRE(scalar::f32_to_bf16(f) == h);
  }
}

TEST_CASE("f32 -> bf16 rounds midpoints and near-midpoints to nearest even") {
  for (uint32_t h = 0; h < 0x7F7F; ++h) {  // positive finite, below the largest
    const uint32_t lo_bits = h << 16;
    for (uint32_t low : {0x7FFFu, 0x8000u, 0x8001u, 0x1234u, 0xFFFFu}) {
      const float x = from_bits(lo_bits | low);
      const uint16_t expected = nearest_half(x, test::bf16_bits_value, static_cast<uint16_t>(h), static_cast<uint16_t>(h + 1));
      REQUIRE(scalar::f32_to_bf16(x) == expected);
      REQUIRE(scalar::f32_to_bf16(-x) == (expected | 0x8000));
    }
  }
}

TEST_CASE("f32 -> f16 rounds every midpoint between f16 neighbours to the even one") {
  for (uint32_t h = 0; h < 0x7BFF; ++h) {  // positive finite, below the largest
    const double a = test::f16_bits_value(static_cast<uint16_t>(h));
    const double b = test::f16_bits_value(static_cast<uint16_t>(h + 1));
    for (double x : {(a + b) / 2, std::nextafter(static_cast<float>((a + b) / 2), 0.0f) * 1.0,
                     std::nextafter(static_cast<float>((a + b) / 2), 1.0f) * 1.0}) {
      const float xf = static_cast<float>(x);
      REQUIRE(static_cast<double>(xf) == x);  // every probe is an exact f32
      const uint16_t expected = nearest_half(x, test::f16_bits_value, static_cast<uint16_t>(h), static_cast<uint16_t>(h + 1));
      REQUIRE(scalar::f32_to_f16(xf) == expected);
    }
  }
}

TEST_CASE("f32 -> f16 overflow goes to infinity exactly past the rounding threshold") {
  CHECK(scalar::f32_to_f16(65504.0f) == 0x7BFF);
  CHECK(scalar::f32_to_f16(65519.996f) == 0x7BFF);
  CHECK(scalar::f32_to_f16(65520.0f) == 0x7C00);
  CHECK(scalar::f32_to_f16(-1e30f) == 0xFC00);
  CHECK(scalar::f32_to_f16(INFINITY) == 0x7C00);
  CHECK(scalar::f32_to_f16(-INFINITY) == 0xFC00);
}

TEST_CASE("f32 -> f16 underflow: subnormals and flush to signed zero") {
  CHECK(scalar::f32_to_f16(std::ldexp(1.0f, -24)) == 0x0001);
  CHECK(scalar::f32_to_f16(std::ldexp(1.0f, -25)) == 0x0000);            // tie -> even (0)
  CHECK(scalar::f32_to_f16(std::ldexp(1.5f, -25)) == 0x0001);
  CHECK(scalar::f32_to_f16(std::ldexp(3.0f, -25)) == 0x0002);            // 1.5 ulp tie -> even (2)
  CHECK(scalar::f32_to_f16(-std::ldexp(1.0f, -30)) == 0x8000);
  CHECK(scalar::f32_to_f16(std::ldexp(1023.5f, -24)) == 0x0400);          // rounds up to the smallest normal
}

TEST_CASE("NaN stays NaN through f16 and bf16, with its sign") {
  for (uint32_t payload : {0x7FC00000u, 0x7F800001u, 0x7FFFFFFFu, 0xFFC00000u, 0xFF800001u}) {
    const float nan = from_bits(payload);
    const uint16_t h = scalar::f32_to_f16(nan);
    const uint16_t b = scalar::f32_to_bf16(nan);
    CHECK(std::isnan(scalar::f16_to_f32(h)));
    CHECK(std::isnan(scalar::bf16_to_f32(b)));
    CHECK(bool(h & 0x8000) == bool(payload >> 31));
    CHECK(bool(b & 0x8000) == bool(payload >> 31));
  }
}

TEST_CASE("f32 -> f16/bf16: vector kernels equal scalar twins on 2^20 random bit patterns") {
  const auto in = random_f32_patterns(1 << 20, 7);
  for (DType t : {DType::F16, DType::BF16}) {
    std::vector<uint8_t> vec(in.size() * 2), ref(in.size() * 2);
    from_f32(t, in.data(), vec.data(), in.size());
    scalar::from_f32(t, in.data(), ref.data(), in.size());
    REQUIRE(vec == ref);
  }
}

TEST_CASE("f32 -> f16/bf16: vector kernels equal scalar twins near every f16 boundary") {
  std::vector<float> in;
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint32_t b = bits(scalar::f16_to_f32(static_cast<uint16_t>(h)));
    for (int d = -2; d <= 2; ++d) in.push_back(from_bits(b + static_cast<uint32_t>(d * 4096)));
  }
  for (DType t : {DType::F16, DType::BF16}) {
    std::vector<uint8_t> vec(in.size() * 2), ref(in.size() * 2);
    from_f32(t, in.data(), vec.data(), in.size());
    scalar::from_f32(t, in.data(), ref.data(), in.size());
    REQUIRE(vec == ref);
  }
}

TEST_CASE("conversion tails: every length from 0 to 40 agrees with the scalar twin") {
  const auto in = random_f32_patterns(40, 3);
  for (size_t n = 0; n <= 40; ++n)
    for (DType t : {DType::F16, DType::BF16, DType::F32, DType::F64}) {
      std::vector<uint8_t> vec(n * 8 + 1, 0xAB), ref(n * 8 + 1, 0xAB);
      from_f32(t, in.data(), vec.data(), n);
      scalar::from_f32(t, in.data(), ref.data(), n);
      REQUIRE(vec == ref);
      std::vector<float> back_vec(n + 1, 1.5f), back_ref(n + 1, 1.5f);
      to_f32(t, vec.data(), back_vec.data(), n);
      scalar::to_f32(t, vec.data(), back_ref.data(), n);
      for (size_t i = 0; i <= n; ++i) REQUIRE(bits(back_vec[i]) == bits(back_ref[i]));
    }
}

TEST_CASE("f64 <-> f32: round to nearest, overflow to infinity") {
  const double in[] = {1.0, 0.1, -1e300, 1e-300, 3.4028235677973366e38};
  std::vector<uint8_t> raw(sizeof in);
  std::memcpy(raw.data(), in, sizeof in);
  float out[5];
  to_f32(DType::F64, raw.data(), out, 5);
  CHECK(out[0] == 1.0f);
  CHECK(out[1] == 0.1f);
  CHECK(std::isinf(out[2]));
  CHECK(out[2] < 0);
  CHECK(out[3] == 0.0f);
  CHECK(std::isinf(out[4]));
}

TEST_CASE("dtype names and sizes follow the safetensors spellings") {
  CHECK(dtype_from_name("BF16") == DType::BF16);
  CHECK(dtype_from_name("F8_E4M3") == DType::F8_E4M3);
  CHECK_FALSE(dtype_from_name("bf16").has_value());
  CHECK_FALSE(dtype_from_name("F128").has_value());
  CHECK(dtype_size(DType::F64) == 8);
  CHECK(dtype_size(DType::BOOL) == 1);
  CHECK(is_mergeable(DType::F16));
  CHECK_FALSE(is_mergeable(DType::I64));
  CHECK(dtype_from_torch_name("bfloat16") == DType::BF16);
  CHECK(std::string(torch_dtype_name(DType::F16)) == "float16");
}

// The reference: the first element whose value is NaN or infinite, by the IEEE
// definitions of support.cpp's decoders, one element at a time.
TEST_CASE("first_nonfinite finds the first NaN or infinity at every place, vector and scalar alike") {
  struct Case {
    DType type;
    std::vector<uint64_t> specials;  // bit patterns of NaN and ±inf
    uint64_t largest_finite;         // all ones but the exponent's lowest bit: finite, a near miss
  };
  const Case cases[] = {
      {DType::BF16, {0x7F80, 0xFF80, 0x7FC0, 0xFF81, 0x7FFF}, 0x7F7F},
      {DType::F16, {0x7C00, 0xFC00, 0x7E00, 0xFC01, 0x7FFF}, 0x7BFF},
      {DType::F32, {0x7F800000, 0xFF800000, 0x7FC00000, 0xFF800001}, 0x7F7FFFFF},
      {DType::F64, {0x7FF0000000000000, 0xFFF8000000000000}, 0x7FEFFFFFFFFFFFFF},
  };
  for (const Case& c : cases) {
    const size_t size = dtype_size(c.type);
    auto put = [&](std::vector<uint8_t>& bytes, size_t i, uint64_t bits) { std::memcpy(&bytes[i * size], &bits, size); };
    auto reference = [&](const std::vector<uint8_t>& bytes, size_t n) {
      const std::vector<double> values = test::decode(dtype_name(c.type), bytes.data(), n);
      for (size_t i = 0; i < n; ++i)
        if (!std::isfinite(values[i])) return i;
      return n;
    };
    for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{63}, size_t{64}, size_t{65}, size_t{300}, size_t{1000}}) {
      std::vector<uint8_t> bytes(n * size);
      for (size_t i = 0; i < n; ++i) put(bytes, i, i % 3 ? c.largest_finite : 0);
      REQUIRE(first_nonfinite(c.type, bytes.data(), n) == n);
      REQUIRE(scalar::first_nonfinite(c.type, bytes.data(), n) == n);
      for (size_t at = 0; at < n; at += (at < 70 ? 1 : 37)) {
        std::vector<uint8_t> bad = bytes;
        put(bad, at, c.specials[at % c.specials.size()]);
        if (at + 5 < n) put(bad, at + 5, c.specials[0]);  // a later one does not count
        INFO(dtype_name(c.type) << " n=" << n << " at=" << at);
        REQUIRE(reference(bad, n) == at);
        REQUIRE(first_nonfinite(c.type, bad.data(), n) == at);
        REQUIRE(scalar::first_nonfinite(c.type, bad.data(), n) == at);
      }
    }
  }
}

TEST_CASE("to_f32_minus: each half pattern's value minus a base, one f32 subtraction, vector and scalar alike") {
  const auto halves = all_half_patterns();
  std::mt19937 rng(12);
  std::vector<float> base(65536);
  for (auto& b : base) b = from_bits(rng());  // every kind of f32, NaN and infinity included
  for (DType t : {DType::F16, DType::BF16}) {
    std::vector<float> vec(65536), ref(65536);
    to_f32_minus(t, halves.data(), base.data(), vec.data(), 65536);
    scalar::to_f32_minus(t, halves.data(), base.data(), ref.data(), 65536);
    for (uint32_t h = 0; h < 65536; ++h) {
      const double value = t == DType::F16 ? test::f16_bits_value(static_cast<uint16_t>(h)) : test::bf16_bits_value(static_cast<uint16_t>(h));
      const float expected = static_cast<float>(value) - base[h];  // the half's value is exact in f32
      INFO(dtype_name(t) << " pattern " << h);
      if (std::isnan(expected)) {  // which NaN an operation returns is the machine's choice
        REQUIRE(std::isnan(vec[h]));
        REQUIRE(std::isnan(ref[h]));
        continue;
      }
      REQUIRE(std::memcmp(&vec[h], &expected, 4) == 0);
      REQUIRE(std::memcmp(&ref[h], &expected, 4) == 0);
    }
  }
}
