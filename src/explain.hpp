#pragma once
// What a merge does to a few elements of one tensor, step by step, for the playground's
// "TIES step by step": an observer of the block pipeline that keeps the window of every
// stage the method reports (method.hpp: MergeMethod::stages), then the method adds what
// it derives (TIES: the elected sign and who agrees).
#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipeline/block_pipeline.hpp"
#include "wasmerge/merge.hpp"
#include "wasmerge/method.hpp"

namespace wasmerge {

class Explanation : public ChunkObserver {
 public:
  Explanation(const ExplainRequest& request, const MergeMethod& method, size_t models, uint64_t tensor_elements);
  void capture(std::string_view stage, int model, uint64_t first, const float* values, size_t n) override;

  size_t count() const { return count_; }
  const std::vector<std::vector<float>>& model_stage(const std::string& stage) const { return stages_.at(stage).rows; }
  void add(const std::string& key, nlohmann::ordered_json value) { extras_[key] = std::move(value); }
  // {"event":"explain","tensor":..,"offset":..,"count":..,"method":..,"stages":[..], one key per stage}
  std::string to_json() const;

 private:
  struct Stage {
    std::vector<std::vector<float>> rows;  // per model
    std::vector<float> merged;             // of the merged tensor
    std::atomic<bool> per_model{false}, whole{false};
  };
  void copy_window(std::vector<float>& into, uint64_t first, const float* values, size_t n);

  std::string tensor_, method_;
  std::vector<std::string> order_;
  uint64_t offset_;
  size_t count_;
  std::map<std::string, Stage, std::less<>> stages_;
  nlohmann::ordered_json extras_ = nlohmann::ordered_json::object();
};

}  // namespace wasmerge
