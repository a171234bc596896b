#pragma once
// Reading a model's weights into f32 for the forward pass: small vectors whole, embedding
// rows one by one, and matrices streamed in blocks of rows multiplied into every token.
#include <cstdint>
#include <functional>
#include <vector>

#include "wasmerge/model.hpp"
#include "wasmerge/thread_pool.hpp"

namespace wasmerge {
namespace decoder {

// A 1-D tensor (a norm's weight, a bias), converted to f32.
std::vector<float> read_vector(const ModelTensor& t);

// Rows `ids` of a 2-D tensor [rows, width] into out (ids.size() × width floats); an id past
// the tensor's rows is an error naming it.
void read_rows(const ModelTensor& t, const std::vector<int32_t>& ids, float* out);

// y[t·out + o] = Σ_i x[t·in + i]·W[o][i] (+ bias[o]) for the tensor W [out, in] and `tokens`
// rows of x. W is read in blocks of whole rows, at most `budget_bytes` for the blocks in
// memory at once (at least one row), the next block read while the pool multiplies this
// one. Each y element is one dot product in the kernels' order, so neither the thread count
// nor the block size changes a bit.
void multiply_streamed(const ModelTensor& w, const float* x, size_t tokens, const float* bias, float* y,
                       ThreadPool& pool, uint64_t budget_bytes);

// The same products without bias, handed over a block of W's rows at a time instead of kept:
// on_block(row0, rows, y) with y [tokens, rows] holding columns row0.. of the product, the
// blocks in row order; the block's output counts in the budget. The bits are
// multiply_streamed's.
using BlockFn = std::function<void(size_t row0, size_t rows, const float* y)>;
void multiply_streamed_blocks(const ModelTensor& w, const float* x, size_t tokens, ThreadPool& pool,
                              uint64_t budget_bytes, const BlockFn& on_block);

}  // namespace decoder
}  // namespace wasmerge
