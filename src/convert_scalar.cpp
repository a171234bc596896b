// The scalar twins: the definition of every conversion, written for clarity.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "wasmerge/convert.hpp"
#include "wasmerge/kernels.hpp"

namespace wasmerge::scalar {
namespace {

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Tensor bytes are little-endian, as are wasm and every host this builds for.
uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
void store_u16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }

}  // namespace

float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exponent = (h >> 10) & 0x1F;
  const uint32_t mantissa = h & 0x3FF;
  if (exponent == 0) {  // zero or subnormal: mantissa · 2^-24, exact in f32
    const float magnitude = static_cast<float>(mantissa) * (1.0f / 16777216.0f);
    return float_of(bits_of(magnitude) | sign);
  }
  if (exponent == 31) return float_of(sign | 0x7F800000u | (mantissa << 13));  // inf, NaN
  return float_of(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

float bf16_to_f32(uint16_t h) { return float_of(static_cast<uint32_t>(h) << 16); }

uint16_t f32_to_f16(float f) {
  const uint32_t x = bits_of(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  const uint32_t ax = x & 0x7FFFFFFFu;
  if (ax > 0x7F800000u) return sign | 0x7E00 | ((ax >> 13) & 0x3FF);  // NaN stays NaN (quiet)
  if (ax >= 0x477FF000u) return sign | 0x7C00;  // ≥ 65520 rounds past the largest f16: ±inf
  if (ax >= 0x38800000u) {                      // normal f16 (≥ 2^-14)
    // Rebias the exponent (−112 << 23) and round the 13 dropped bits to nearest even;
    // a carry out of the mantissa correctly bumps the exponent.
    const uint32_t odd = (ax >> 13) & 1;
    return sign | static_cast<uint16_t>((ax + 0xC8000FFFu + odd) >> 13);
  }
  // Subnormal or zero: the f16 is round(|f| · 2^24); scaling by 2^24 is exact, rint rounds
  // to nearest even, and 1024 lands on the smallest normal, as it should.
  const float scaled = float_of(ax) * 16777216.0f;
  return sign | static_cast<uint16_t>(std::nearbyint(scaled));
}

uint16_t f32_to_bf16(float f) {
  const uint32_t x = bits_of(f);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((x >> 16) | 0x0040);  // quiet NaN
  const uint32_t odd = (x >> 16) & 1;
  return static_cast<uint16_t>((x + 0x7FFFu + odd) >> 16);
}

// An all-ones exponent field marks NaN and infinity in every IEEE format.
size_t first_nonfinite(DType t, const uint8_t* src, size_t n) {
  auto scan = [&](auto exponent_mask, auto load) {
    constexpr size_t kSpan = 256;  // a branch-free test per span vectorizes; the search runs once
    for (size_t first = 0; first < n; first += kSpan) {
      const size_t end = std::min(n, first + kSpan);
      unsigned bad = 0;  // a count, not a bool: compilers vectorize an integer sum, not `any |=`
      for (size_t i = first; i < end; ++i) bad += (load(i) & exponent_mask) == exponent_mask;
      if (!bad) continue;
      for (size_t i = first; i < end; ++i)
        if ((load(i) & exponent_mask) == exponent_mask) return i;
    }
    return n;
  };
  switch (t) {
    case DType::F64: return scan(0x7FF0000000000000ull, [&](size_t i) { uint64_t v; std::memcpy(&v, src + 8 * i, 8); return v; });
    case DType::F32: return scan(0x7F800000u, [&](size_t i) { uint32_t v; std::memcpy(&v, src + 4 * i, 4); return v; });
    case DType::F16: return scan(uint16_t{0x7C00}, [&](size_t i) { return load_u16(src + 2 * i); });
    case DType::BF16: return scan(uint16_t{0x7F80}, [&](size_t i) { return load_u16(src + 2 * i); });
    default: return n;
  }
}

void to_f32(DType from, const uint8_t* src, float* dst, size_t n) {
  switch (from) {
    case DType::F32: if (n) std::memcpy(dst, src, n * 4); break;  // memcpy of null, even for 0 bytes, is UB
    case DType::F64:
      for (size_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, src + 8 * i, 8);
        dst[i] = static_cast<float>(d);
      }
      break;
    case DType::F16:
      for (size_t i = 0; i < n; ++i) dst[i] = f16_to_f32(load_u16(src + 2 * i));
      break;
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(load_u16(src + 2 * i));
      break;
    default: break;  // callers only pass mergeable dtypes
  }
}

void to_f32_minus(DType from, const uint8_t* src, const float* base, float* dst, size_t n) {
  scalar::to_f32(from, src, dst, n);
  scalar::subtract(dst, base, n);
}

void from_f32(DType to, const float* src, uint8_t* dst, size_t n) {
  switch (to) {
    case DType::F32: if (n) std::memcpy(dst, src, n * 4); break;
    case DType::F64:
      for (size_t i = 0; i < n; ++i) {
        const double d = src[i];
        std::memcpy(dst + 8 * i, &d, 8);
      }
      break;
    case DType::F16:
      for (size_t i = 0; i < n; ++i) store_u16(dst + 2 * i, f32_to_f16(src[i]));
      break;
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) store_u16(dst + 2 * i, f32_to_bf16(src[i]));
      break;
    default: break;
  }
}

}  // namespace wasmerge::scalar
