#pragma once
// Every failure a user can cause ends as a MergeError whose message is one line,
// ready to print after "error: ", naming the file and the tensor where they are known.
#include <stdexcept>
#include <string>

namespace wasmerge {

class MergeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "m1.safetensors: tensor 'lm_head.weight': <what>", skipping the parts that are empty.
std::string where(const std::string& file, const std::string& tensor, const std::string& what);

[[noreturn]] void fail(const std::string& file, const std::string& tensor, const std::string& what);

}  // namespace wasmerge
