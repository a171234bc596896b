#pragma once
// In-memory inputs and discarding outputs for the fuzz targets: no file system, no
// sanitizer noise from I/O, and a read past the end is a MergeError like the hosts'.
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "wasmerge/byte_io.hpp"
#include "wasmerge/error.hpp"

namespace fuzz {

class Source : public wasmerge::ByteSource {
 public:
  Source(std::string name, const uint8_t* data, size_t size) : name_(std::move(name)), data_(data), size_(size) {}
  const std::string& name() const override { return name_; }
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, size_t n, uint8_t* dst) override {
    if (offset > size_ || n > size_ - offset) wasmerge::fail(name_, "", "read past the end");
    std::memcpy(dst, data_ + offset, n);
  }

 private:
  std::string name_;
  const uint8_t* data_;
  size_t size_;
};

// path -> bytes; the bytes must outlive the merge.
class Inputs : public wasmerge::InputFiles {
 public:
  void add(const std::string& path, const uint8_t* data, size_t size) { files_[path] = {data, size}; }
  std::optional<uint64_t> file_size(const std::string& path) override {
    auto it = files_.find(path);
    if (it == files_.end()) return std::nullopt;
    return it->second.second;
  }
  std::unique_ptr<wasmerge::ByteSource> open(const std::string& path) override {
    const auto& [data, size] = files_.at(path);
    return std::make_unique<Source>(path, data, size);
  }

 private:
  std::map<std::string, std::pair<const uint8_t*, size_t>> files_;
};

class Outputs : public wasmerge::OutputFiles {
  struct Sink : wasmerge::ByteSink {
    void write(const uint8_t*, size_t) override {}
  };

 public:
  std::unique_ptr<wasmerge::ByteSink> create(const std::string&) override { return std::make_unique<Sink>(); }
  void commit() override {}
  void discard() override {}
};

}  // namespace fuzz
