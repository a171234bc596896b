#include "wasmerge/byte_io.hpp"

#include "wasmerge/error.hpp"

namespace wasmerge {

std::string read_small_file(InputFiles& files, const std::string& path) {
  auto size = files.file_size(path);
  if (!size) fail(path, "", "no such file");
  if (*size > (256u << 20)) fail(path, "", "too large for a text file");
  std::string text(static_cast<size_t>(*size), '\0');
  files.open(path)->read(0, text.size(), reinterpret_cast<uint8_t*>(text.data()));
  return text;
}

void write_small_file(OutputFiles& out, const std::string& name, const std::string& text) {
  out.create(name)->write(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

}  // namespace wasmerge
