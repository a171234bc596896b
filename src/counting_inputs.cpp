#include "counting_inputs.hpp"

namespace wasmerge {
namespace {

class CountingSource : public ByteSource {
 public:
  CountingSource(std::unique_ptr<ByteSource> inner, std::atomic<uint64_t>& counter)
      : inner_(std::move(inner)), counter_(counter) {}
  const std::string& name() const override { return inner_->name(); }
  uint64_t size() const override { return inner_->size(); }
  void read(uint64_t offset, size_t n, uint8_t* dst) override {
    inner_->read(offset, n, dst);
    counter_ += n;
  }

 private:
  std::unique_ptr<ByteSource> inner_;
  std::atomic<uint64_t>& counter_;
};

}  // namespace

std::unique_ptr<ByteSource> CountingInputs::open(const std::string& path) {
  return std::make_unique<CountingSource>(inner_.open(path), bytes_read_);
}

}  // namespace wasmerge
