#pragma once
// Progress of a merge or an analysis: input bytes done of the total, the tensor at work;
// the host's callback returning false cancels (throws Cancelled).
#include <string>

#include "pipeline/block_pipeline.hpp"
#include "wasmerge/merge.hpp"

namespace wasmerge {

class MergeProgress {
 public:
  MergeProgress(const ProgressFn& on_progress, uint64_t bytes_total, size_t tensor_count) : on_progress_(on_progress) {
    progress_.bytes_total = bytes_total;
    progress_.tensor_count = tensor_count;
  }
  void start_tensor(const std::string& name) {
    if (progress_.tensor) ++progress_.tensor_index;
    tensor_ = name;
    progress_.tensor = &tensor_;
    report();
  }
  BlockPipeline::Progress on_block() {
    return [this](uint64_t bytes) {
      progress_.bytes_done += bytes;
      report();
    };
  }

 private:
  void report() {
    if (on_progress_ && !on_progress_(progress_)) throw Cancelled();
  }
  const ProgressFn& on_progress_;
  Progress progress_;
  std::string tensor_;
};

}  // namespace wasmerge
