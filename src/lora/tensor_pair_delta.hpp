#pragma once
// δ of one tensor pair read from the two models' files, rows_per_block rows at a time
// (rows: the first dimension; a 0-d tensor is one row of one).
#include <functional>

#include "lora/delta_matrix.hpp"
#include "wasmerge/model.hpp"

namespace wasmerge {

class TensorPairDelta : public DeltaMatrix {
 public:
  // on_block(bytes): after each block (input bytes on the first pass, 0 on later ones);
  // it may throw to cancel. A non-finite element of δ is a MergeError naming the tensor.
  TensorPairDelta(const ModelTensor& base, const ModelTensor& tuned, size_t rows_per_block,
                  std::function<void(uint64_t)> on_block);
  size_t rows() const override { return rows_; }
  size_t cols() const override { return cols_; }
  void for_each_block(const Visit& visit) override;
  bool known_zero() const override { return passes_ > 0 && zero_; }
  // The whole of δ, read in one pass.
  std::vector<float> load();

 private:
  const ModelTensor& base_;
  const ModelTensor& tuned_;
  size_t rows_, cols_, rows_per_block_;
  std::function<void(uint64_t)> on_block_;
  unsigned passes_ = 0;
  bool zero_ = true;
};

}  // namespace wasmerge
