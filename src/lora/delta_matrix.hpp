#pragma once
// δ = fine-tune − base of one 2-D tensor as the SVD sees it: row blocks, in order, read
// again for every pass over it unless the whole matrix was given memory to stay in.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace wasmerge {

class DeltaMatrix {
 public:
  virtual ~DeltaMatrix() = default;
  virtual size_t rows() const = 0;
  virtual size_t cols() const = 0;
  // visit(first_row, row_count, elements) for consecutive blocks covering every row, in order;
  // elements holds row_count × cols() f32 values, row-major.
  using Visit = std::function<void(size_t first, size_t count, const float* block)>;
  virtual void for_each_block(const Visit& visit) = 0;
  // True once a pass has seen that every element is zero (it then has no singular triples).
  virtual bool known_zero() const { return false; }
};

// A δ held whole in memory (the tests' matrices; a tensor pair that fit its budget).
class MemoryDelta : public DeltaMatrix {
 public:
  // on_pass: called before each pass (the extraction's cancel check).
  MemoryDelta(size_t rows, size_t cols, std::vector<float> values, std::function<void()> on_pass = {})
      : rows_(rows), cols_(cols), values_(std::move(values)), on_pass_(std::move(on_pass)) {
    zero_ = std::all_of(values_.begin(), values_.end(), [](float x) { return x == 0.0f; });
  }
  bool known_zero() const override { return zero_; }
  size_t rows() const override { return rows_; }
  size_t cols() const override { return cols_; }
  void for_each_block(const Visit& visit) override {
    if (on_pass_) on_pass_();
    visit(0, rows_, values_.data());
  }
  const std::vector<float>& values() const { return values_; }

 private:
  size_t rows_, cols_;
  std::vector<float> values_;
  std::function<void()> on_pass_;
  bool zero_ = false;
};

}  // namespace wasmerge
