#include "wasmerge/crc32.hpp"

#include <array>
#include <cstring>

namespace wasmerge {
namespace {

constexpr uint32_t kPolynomial = 0xEDB88320u;  // x^32 + x^26 + ... + 1, bit-reversed

// Slicing by 8: table[k][b] is the CRC contribution of byte b followed by k zero bytes, so
// eight bytes cost eight lookups and no loop-carried shift per byte.
struct Tables {
  std::array<std::array<uint32_t, 256>, 8> t;
  Tables() {
    for (uint32_t b = 0; b < 256; ++b) {
      uint32_t c = b;
      for (int bit = 0; bit < 8; ++bit) c = c & 1 ? (c >> 1) ^ kPolynomial : c >> 1;
      t[0][b] = c;
    }
    for (size_t k = 1; k < 8; ++k)
      for (uint32_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFF];
  }
};
const Tables& tables() {
  static const Tables tables;
  return tables;
}

// Polynomials over GF(2) modulo the CRC's, in its reflected form: bit 31 is x^0.
uint32_t multiply_mod(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (uint32_t m = 1u << 31; m != 0; m >>= 1) {
    if (a & m) product ^= b;
    b = b & 1 ? (b >> 1) ^ kPolynomial : b >> 1;  // b·x
  }
  return product;
}

// x^(2^k) mod p for k < 64.
const std::array<uint32_t, 64>& powers_of_x() {
  static const std::array<uint32_t, 64> powers = [] {
    std::array<uint32_t, 64> p{};
    p[0] = 1u << 30;  // x^1
    for (size_t k = 1; k < p.size(); ++k) p[k] = multiply_mod(p[k - 1], p[k - 1]);
    return p;
  }();
  return powers;
}

}  // namespace

uint32_t crc32(const uint8_t* data, size_t n, uint32_t crc) {
  const auto& t = tables().t;
  uint32_t c = ~crc;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint32_t lo, hi;  // little-endian words, as the reflected CRC consumes bytes
    std::memcpy(&lo, data + i, 4);
    std::memcpy(&hi, data + i + 4, 4);
    lo ^= c;
    c = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^ t[3][hi & 0xFF] ^
        t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
  }
  for (; i < n; ++i) c = t[0][(c ^ data[i]) & 0xFF] ^ (c >> 8);
  return ~c;
}

// CRC(A·B) = CRC(A)·x^(8|B|) + CRC(B) (mod p): the pre- and post-inversions cancel out.
uint32_t crc32_combine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b) {
  uint32_t shift = 1u << 31;  // x^0
  const auto& powers = powers_of_x();
  for (size_t k = 3; length_b != 0; length_b >>= 1, ++k)  // 8·length_b = Σ 2^k over its bits, k from 3
    if (length_b & 1) shift = multiply_mod(powers[k], shift);
  return multiply_mod(shift, crc_a) ^ crc_b;
}

}  // namespace wasmerge
