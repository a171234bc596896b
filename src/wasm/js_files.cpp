#include "js_files.hpp"

#include "wasmerge/crc32.hpp"
#include "wasmerge/error.hpp"

extern "C" {
double wasmerge_host_file_size(const char* path);
int wasmerge_host_open(const char* path);
int wasmerge_host_read(int handle, double offset, size_t n, uint8_t* dst);
void wasmerge_host_close(int handle);
int wasmerge_host_create(const char* name);
int wasmerge_host_write(int handle, const uint8_t* src, size_t n, uint32_t crc_so_far);
int wasmerge_host_wants_crc();
int wasmerge_host_finish(int commit);
int wasmerge_host_cancelled();
void wasmerge_host_error(char* buf, int cap);
}

namespace wasmerge {
namespace {

std::string host_error() {
  char buf[1024];
  wasmerge_host_error(buf, sizeof buf);
  return buf;
}

class JsSource : public ByteSource {
 public:
  JsSource(std::string path, int handle, uint64_t size) : path_(std::move(path)), handle_(handle), size_(size) {}
  ~JsSource() override { wasmerge_host_close(handle_); }
  const std::string& name() const override { return path_; }
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, size_t n, uint8_t* dst) override {
    if (offset > size_ || n > size_ - offset) fail(path_, "", "read past the end of the file");
    if (wasmerge_host_read(handle_, static_cast<double>(offset), n, dst) != 0) fail(path_, "", host_error());
  }

 private:
  std::string path_;
  int handle_;
  uint64_t size_;
};

class JsSink : public ByteSink {
 public:
  JsSink(std::string name, int handle, bool wants_crc)
      : name_(std::move(name)), handle_(handle), wants_crc_(wants_crc) {}
  bool wants_crc() const override { return wants_crc_; }
  void write(const uint8_t* data, size_t n) override { write_with_crc(data, n, wants_crc_ ? crc32(data, n) : 0); }
  void write_with_crc(const uint8_t* data, size_t n, uint32_t crc) override {
    if (wants_crc_) crc_so_far_ = crc32_combine(crc_so_far_, crc, n);
    if (wasmerge_host_write(handle_, data, n, crc_so_far_) != 0) fail(name_, "", host_error());
  }

 private:
  std::string name_;
  int handle_;
  bool wants_crc_;
  uint32_t crc_so_far_ = 0;  // of every byte written to the file
};

}  // namespace

std::optional<uint64_t> JsInputFiles::file_size(const std::string& path) {
  const double size = wasmerge_host_file_size(path.c_str());
  if (size == -2) fail(path, "", host_error());
  if (size < 0) return std::nullopt;
  return static_cast<uint64_t>(size);
}

std::unique_ptr<ByteSource> JsInputFiles::open(const std::string& path) {
  auto size = file_size(path);
  if (!size) fail(path, "", "no such file");
  const int handle = wasmerge_host_open(path.c_str());
  if (handle < 0) fail(path, "", host_error());
  return std::make_unique<JsSource>(path, handle, *size);
}

JsOutputFiles::~JsOutputFiles() {
  if (!settled_) wasmerge_host_finish(0);
}

std::unique_ptr<ByteSink> JsOutputFiles::create(const std::string& name) {
  const int handle = wasmerge_host_create(name.c_str());
  if (handle < 0) fail(name, "", host_error());
  return std::make_unique<JsSink>(name, handle, wasmerge_host_wants_crc() != 0);
}

void JsOutputFiles::commit() {
  settled_ = true;
  if (wasmerge_host_finish(1) != 0) fail("", "", host_error());
}

void JsOutputFiles::discard() {
  settled_ = true;
  wasmerge_host_finish(0);
}

bool js_host_cancelled() { return wasmerge_host_cancelled() != 0; }

}  // namespace wasmerge
