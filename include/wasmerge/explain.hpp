#pragma once
// What a merge does to a few elements of one tensor, step by step (SPEC §2), for the
// playground's "TIES step by step": the task vectors, what sparsify keeps, the weighted
// vectors, the elected sign and agreement, the merged δ and the result.
#include <cstdint>
#include <string>
#include <vector>

namespace wasmerge {

struct ExplainRequest {
  std::string tensor;
  uint64_t offset = 0;  // elements [offset, offset + count) of the flat tensor
  size_t count = 256;
};

class Explanation {
 public:
  enum class Stage { Delta, Kept, Weighted };

  Explanation(const ExplainRequest& request, const std::string& method, size_t models, uint64_t tensor_elements);
  // Copies the part of values (tensor elements first..first+n) inside the window.
  void capture(Stage stage, size_t model, uint64_t first, const float* values, size_t n);
  void capture_mixed(uint64_t first, const float* values, size_t n);
  void capture_result(uint64_t first, const float* values, size_t n);
  // The event: {"event":"explain", ...}; sign and agree when the method elects a sign.
  std::string to_json(bool consensus) const;

 private:
  void copy_window(std::vector<float>& into, uint64_t first, const float* values, size_t n);

  std::string tensor_, method_;
  uint64_t offset_;
  size_t count_;
  std::vector<std::vector<float>> delta_, kept_, weighted_;
  std::vector<float> mixed_, result_;
};

}  // namespace wasmerge
