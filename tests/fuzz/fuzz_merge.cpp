// libFuzzer target: the input is one .safetensors file, used as the base and as a model
// of a merge. It drives the header parser, the plan and the engine end to end; any
// outcome but a result or a MergeError (a crash, a sanitizer report, another exception)
// is a bug.   Build: cmake -DWASMERGE_FUZZ=ON with clang++ (see scripts/test.sh).
#include <cstring>
#include <map>
#include <memory>

#include "wasmerge/error.hpp"
#include "wasmerge/merge.hpp"
#include "wasmerge/safetensors.hpp"

namespace {

class Source : public wasmerge::ByteSource {
 public:
  Source(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  const std::string& name() const override { return name_; }
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, size_t n, uint8_t* dst) override {
    if (offset > size_ || n > size_ - offset) wasmerge::fail(name_, "", "read past the end");
    std::memcpy(dst, data_ + offset, n);
  }

 private:
  std::string name_ = "fuzz.safetensors";
  const uint8_t* data_;
  size_t size_;
};

class Inputs : public wasmerge::InputFiles {
 public:
  Inputs(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  std::optional<uint64_t> file_size(const std::string& path) override {
    if (path == "base.safetensors" || path == "a.safetensors") return size_;
    return std::nullopt;
  }
  std::unique_ptr<wasmerge::ByteSource> open(const std::string&) override { return std::make_unique<Source>(data_, size_); }

 private:
  const uint8_t* data_;
  size_t size_;
};

class Outputs : public wasmerge::OutputFiles {
  struct Sink : wasmerge::ByteSink {
    size_t written = 0;
    void write(const uint8_t*, size_t n) override { written += n; }
  };

 public:
  std::unique_ptr<wasmerge::ByteSink> create(const std::string&) override { return std::make_unique<Sink>(); }
  void commit() override {}
  void discard() override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Source source(data, size);
  try {
    wasmerge::read_safetensors_header(source);
  } catch (const wasmerge::MergeError&) {
    return 0;
  }
  Inputs inputs(data, size);
  Outputs outputs;
  wasmerge::MergeOptions options;
  options.threads = 1;
  options.memory_mb = 4;
  for (const char* method : {"ties", "dare_linear"}) {
    const std::string config = std::string(R"({"merge_method":")") + method +
        R"(","base_model":"base.safetensors","allow_nonfinite":true,"models":[{"model":"a.safetensors","parameters":{"weight":0.5,"density":0.5}}]})";
    try {
      wasmerge::run_merge(config, options, inputs, outputs);
    } catch (const wasmerge::MergeError&) {
    }
  }
  return 0;
}
