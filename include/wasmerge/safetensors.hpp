#pragma once
// The safetensors container (SPEC §3): an 8-byte little-endian header length N, N bytes
// of JSON, then the tensor bytes. The reader trusts nothing in the header.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "wasmerge/byte_io.hpp"
#include "wasmerge/dtype.hpp"

namespace wasmerge {

constexpr uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000;

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<uint64_t> shape;
  uint64_t begin = 0;  // byte offsets within the data buffer, as in the header
  uint64_t end = 0;

  uint64_t num_elements() const;
  uint64_t num_bytes() const { return end - begin; }
};

// "[2, 3]": a shape as messages write it.
std::string shape_text(const std::vector<uint64_t>& shape);

struct SafetensorsHeader {
  uint64_t data_start = 0;               // 8 + N
  std::vector<TensorInfo> tensors;       // in buffer order (by begin offset)
  std::map<std::string, std::string> metadata;
};

// Reads and validates the header of `src` by every rule of SPEC §3; throws MergeError
// naming src.name() and the offending tensor.
SafetensorsHeader read_safetensors_header(ByteSource& src);
// The same checks on header bytes already in memory (the fuzz target's entry point).
SafetensorsHeader parse_safetensors_header(const std::string& file, const uint8_t* bytes,
                                           uint64_t header_len, uint64_t file_size);

// The bytes that precede the tensor data of a file holding `tensors` (laid out
// back to back in the given order; begin/end are recomputed): length + JSON padded
// with spaces to a multiple of 8.
std::string serialize_safetensors_header(std::vector<TensorInfo>& tensors,
                                         const std::map<std::string, std::string>& metadata);

}  // namespace wasmerge
