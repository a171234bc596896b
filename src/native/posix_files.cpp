#include "posix_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "wasmerge/error.hpp"

namespace wasmerge {
namespace {

std::string os_error() { return std::strerror(errno); }

class PosixSource : public ByteSource {
 public:
  PosixSource(std::string path, int fd, uint64_t size) : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixSource() override { ::close(fd_); }
  const std::string& name() const override { return path_; }
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, size_t n, uint8_t* dst) override {
    if (offset > size_ || n > size_ - offset) fail(path_, "", "read past the end of the file");
    while (n > 0) {
      const ssize_t got = ::pread(fd_, dst, n, static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) fail(path_, "", got == 0 ? "file shrank while reading" : "read failed: " + os_error());
      dst += got;
      offset += static_cast<uint64_t>(got);
      n -= static_cast<size_t>(got);
    }
  }

 private:
  std::string path_;
  int fd_;
  uint64_t size_;
};

class PosixSink : public ByteSink {
 public:
  PosixSink(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixSink() override { ::close(fd_); }
  void write(const uint8_t* data, size_t n) override {
    while (n > 0) {
      const ssize_t put = ::write(fd_, data, n);
      if (put < 0 && errno == EINTR) continue;
      if (put <= 0) fail(path_, "", errno == ENOSPC ? "write failed: the disk is full (ENOSPC)" : "write failed: " + os_error());
      data += put;
      n -= static_cast<size_t>(put);
    }
  }

 private:
  std::string path_;
  int fd_;
};

}  // namespace

std::optional<uint64_t> PosixInputFiles::file_size(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return static_cast<uint64_t>(st.st_size);
}

std::unique_ptr<ByteSource> PosixInputFiles::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, "", "cannot open: " + os_error());
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    fail(path, "", "cannot stat: " + os_error());
  }
  return std::make_unique<PosixSource>(path, fd, static_cast<uint64_t>(st.st_size));
}

PosixOutputFiles::PosixOutputFiles(std::string dir) : dir_(std::move(dir)) {}

PosixOutputFiles::~PosixOutputFiles() {
  if (!settled_) discard();
}

std::unique_ptr<ByteSink> PosixOutputFiles::create(const std::string& name) {
  const std::string partial = dir_ + "/" + name + ".partial";
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(partial, "", "cannot create: " + os_error());
  created_.push_back(name);
  return std::make_unique<PosixSink>(name, fd);
}

void PosixOutputFiles::commit() {
  for (const auto& name : created_) {
    const std::string final_path = dir_ + "/" + name;
    if (::rename((final_path + ".partial").c_str(), final_path.c_str()) != 0)
      fail(final_path, "", "cannot rename into place: " + os_error());
  }
  settled_ = true;
}

void PosixOutputFiles::discard() {
  for (const auto& name : created_) ::unlink((dir_ + "/" + name + ".partial").c_str());
  created_.clear();
  settled_ = true;
}

}  // namespace wasmerge
