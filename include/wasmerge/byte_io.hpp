#pragma once
// The only way the engine touches files. Each host (native POSIX, node, browser worker)
// implements these; nothing in the engine knows which host it runs on.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace wasmerge {

// Random-access reads of one input file. Offsets are 64-bit: inputs can exceed 4 GiB.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual const std::string& name() const = 0;
  virtual uint64_t size() const = 0;
  // Fills dst with exactly n bytes from offset, or throws MergeError naming the file.
  virtual void read(uint64_t offset, size_t n, uint8_t* dst) = 0;
};

// Sequential writes of one output file.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void write(const uint8_t* data, size_t n) = 0;
  // A host that stores outputs in a zip (the page) wants each file's CRC-32 (crc32.hpp);
  // a merged tensor's writes then come with theirs, computed by the pool.
  virtual bool wants_crc() const { return false; }
  // n bytes whose CRC-32 the caller computed already.
  virtual void write_with_crc(const uint8_t* data, size_t n, uint32_t /*crc*/) { write(data, n); }
};

// Where inputs come from. Paths are the strings of the config; the host resolves them.
class InputFiles {
 public:
  virtual ~InputFiles() = default;
  // Size of a regular file at path, or nullopt when there is none.
  virtual std::optional<uint64_t> file_size(const std::string& path) = 0;
  virtual std::unique_ptr<ByteSource> open(const std::string& path) = 0;
};

// Where outputs go. Files are written under temporary names and appear under their
// final names only on commit(), so a failed merge never leaves a complete-looking model.
class OutputFiles {
 public:
  virtual ~OutputFiles() = default;
  virtual std::unique_ptr<ByteSink> create(const std::string& name) = 0;
  virtual void commit() = 0;   // every created file takes its final name
  virtual void discard() = 0;  // every created file is removed
};

std::string read_small_file(InputFiles& files, const std::string& path);
void write_small_file(OutputFiles& out, const std::string& name, const std::string& text);

}  // namespace wasmerge
