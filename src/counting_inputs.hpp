#pragma once
// Input files that count the bytes read through them: how many times a merge read its
// inputs (a method's passes over a tensor larger than the budget re-read it), reported
// with the result and printed by scripts/bench.sh as bytes read / input bytes.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "wasmerge/byte_io.hpp"

namespace wasmerge {

class CountingInputs : public InputFiles {
 public:
  explicit CountingInputs(InputFiles& inner) : inner_(inner) {}
  std::optional<uint64_t> file_size(const std::string& path) override { return inner_.file_size(path); }
  std::unique_ptr<ByteSource> open(const std::string& path) override;
  uint64_t bytes_read() const { return bytes_read_.load(); }

 private:
  InputFiles& inner_;
  std::atomic<uint64_t> bytes_read_{0};  // sources may read on the pool's threads
};

}  // namespace wasmerge
