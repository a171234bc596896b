#pragma once
// The native host's files: pread for inputs (64-bit offsets), and outputs written as
// NAME.partial and renamed on commit.
#include <string>
#include <vector>

#include "wasmerge/byte_io.hpp"

namespace wasmerge {

class PosixInputFiles : public InputFiles {
 public:
  std::optional<uint64_t> file_size(const std::string& path) override;
  std::unique_ptr<ByteSource> open(const std::string& path) override;
};

class PosixOutputFiles : public OutputFiles {
 public:
  explicit PosixOutputFiles(std::string dir);
  ~PosixOutputFiles() override;
  std::unique_ptr<ByteSink> create(const std::string& name) override;
  void commit() override;
  void discard() override;

 private:
  std::string dir_;
  std::vector<std::string> created_;  // final names; on disk as name + ".partial" until commit
  bool settled_ = false;
};

}  // namespace wasmerge
