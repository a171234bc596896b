#pragma once
// CRC-32 as zip stores it (reflected polynomial 0xEDB88320, pre- and post-inverted): the
// page keeps its outputs in a zip and would otherwise checksum every byte in JavaScript on
// the engine's thread. The engine computes it instead, per chunk on the pool where it
// writes a merged tensor, and joins the pieces with crc32_combine.
#include <cstddef>
#include <cstdint>

namespace wasmerge {

// The CRC of data[0, n) following bytes whose CRC was crc (0: none before).
uint32_t crc32(const uint8_t* data, size_t n, uint32_t crc = 0);
// The CRC of A followed by B, from A's CRC, B's CRC and B's length in bytes.
uint32_t crc32_combine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b);

}  // namespace wasmerge
