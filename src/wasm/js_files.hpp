#pragma once
// InputFiles and OutputFiles over the JS host functions of host_io.js.
#include "wasmerge/byte_io.hpp"

namespace wasmerge {

class JsInputFiles : public InputFiles {
 public:
  std::optional<uint64_t> file_size(const std::string& path) override;
  std::unique_ptr<ByteSource> open(const std::string& path) override;
};

class JsOutputFiles : public OutputFiles {
 public:
  ~JsOutputFiles() override;
  std::unique_ptr<ByteSink> create(const std::string& name) override;
  void commit() override;
  void discard() override;

 private:
  bool settled_ = false;
};

bool js_host_cancelled();

}  // namespace wasmerge
