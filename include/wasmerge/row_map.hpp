#pragma once
// Where each row of one model's vocabulary tensor comes from after a vocabulary change
// (SPEC §1 `tokenizer`): its own rows, gathered into the output's token order, and fill
// rows for the tokens it lacks, computed from other models' rows (mergekit's embed.py).
#include <cstdint>
#include <memory>
#include <vector>

#include "wasmerge/model.hpp"

namespace wasmerge {

struct RowTerm {
  const ModelTensor* tensor;
  uint64_t row;
};

// The mean of its terms (f64, rounded to f32, then to the model's dtype); no term: zeros.
struct RowFill {
  std::vector<RowTerm> terms;
};

struct RowMap {
  uint64_t tokens = 0;          // rows [0, tokens) are tokens ...
  uint64_t rows = 0;            // ... rows [tokens, rows) padding: the mean of rows [0, tokens)
  std::vector<int64_t> source;  // per token: a row of the model's own tensor, or -1 - k for fills[k]
  std::shared_ptr<const std::vector<RowFill>> fills;  // shared by every model of the tensor
};

// The values in one row of a tensor: the product of its dimensions after the first.
inline uint64_t columns_of(const TensorInfo& t) {
  uint64_t n = 1;
  for (size_t i = 1; i < t.shape.size(); ++i) n *= t.shape[i];
  return n;
}

}  // namespace wasmerge
