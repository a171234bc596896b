#include "wasmerge/error.hpp"

namespace wasmerge {

std::string where(const std::string& file, const std::string& tensor, const std::string& what) {
  std::string msg;
  if (!file.empty()) msg += file + ": ";
  if (!tensor.empty()) msg += "tensor '" + tensor + "': ";
  return msg + what;
}

void fail(const std::string& file, const std::string& tensor, const std::string& what) {
  throw MergeError(where(file, tensor, what));
}

}  // namespace wasmerge
