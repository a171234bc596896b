#include "decoder/streamed_weights.hpp"

#include <algorithm>

#include "decoder/dot_kernels.hpp"
#include "pipeline/tensor_source.hpp"
#include "wasmerge/convert.hpp"
#include "wasmerge/error.hpp"

namespace wasmerge {
namespace decoder {
namespace {

// A task's share of a block: this many rows by this many tokens, small enough that a pair of
// weight rows stays in L1 while the token tiles pass over it, large enough to keep the
// pool's hand-out cost small.
constexpr size_t kTaskRows = 16;
constexpr size_t kTaskTokens = 64;
// Blocks larger than this gain nothing (the pool is busy either way) and leave nothing to
// overlap reading with.
constexpr uint64_t kMaxBlockBytes = 16ull << 20;

// A tensor's elements in f32, through the source a merge would read it by: an adapted
// model's weights (`base+adapter`) are computed, not its file's bytes.
class WeightReader {
 public:
  WeightReader(const ModelTensor& t, uint64_t scratch_bytes) : source_(make_source(t, nullptr, scratch_bytes)) {}
  size_t element_bytes() const { return dtype_size(source_->dtype()); }
  void read(uint64_t first_element, size_t n, float* out) {
    raw_.resize(n * element_bytes());
    source_->read(first_element, n, raw_.data());
    to_f32(source_->dtype(), raw_.data(), out, n);
  }

 private:
  std::unique_ptr<TensorSource> source_;
  std::vector<uint8_t> raw_;
};

constexpr uint64_t kReaderScratch = 8ull << 20;  // an adapted tensor's own memory (its factors are read per block)

// Rows [0, rows) of the block w (row o of the matrix is block row o - row0) times tokens
// [t0, t1), rows [r0, r1) of the block: the tile kernel where 4 tokens × 2 rows fit, single
// dot products at the edges (the same sums).
void multiply_part(const float* w, size_t in, size_t r0, size_t r1, size_t row0, const float* x, size_t t0, size_t t1,
                   const float* bias, float* y, size_t out) {
  size_t r = r0;
  for (; r + 2 <= r1; r += 2) {
    const float* w0 = w + r * in;
    const float* w1 = w0 + in;
    const size_t o = row0 + r;
    size_t t = t0;
    for (; t + 4 <= t1; t += 4) {
      const float* xs[4] = {x + t * in, x + (t + 1) * in, x + (t + 2) * in, x + (t + 3) * in};
      float sums[8];
      dot_tile_4x2(xs, w0, w1, in, sums);
      for (size_t k = 0; k < 4; ++k) {
        y[(t + k) * out + o] = bias ? sums[2 * k] + bias[o] : sums[2 * k];
        y[(t + k) * out + o + 1] = bias ? sums[2 * k + 1] + bias[o + 1] : sums[2 * k + 1];
      }
    }
    for (; t < t1; ++t) {
      const float a = dot(x + t * in, w0, in), b = dot(x + t * in, w1, in);
      y[t * out + o] = bias ? a + bias[o] : a;
      y[t * out + o + 1] = bias ? b + bias[o + 1] : b;
    }
  }
  for (; r < r1; ++r) {
    const size_t o = row0 + r;
    for (size_t t = t0; t < t1; ++t) {
      const float a = dot(x + t * in, w + r * in, in);
      y[t * out + o] = bias ? a + bias[o] : a;
    }
  }
}

}  // namespace

std::vector<float> read_vector(const ModelTensor& t) {
  std::vector<float> out(t.info.num_elements());
  WeightReader(t, kReaderScratch).read(0, out.size(), out.data());
  return out;
}

void read_rows(const ModelTensor& t, const std::vector<int32_t>& ids, float* out) {
  const uint64_t rows = t.info.shape[0], width = t.info.shape[1];
  WeightReader reader(t, kReaderScratch);
  for (size_t k = 0; k < ids.size(); ++k) {
    if (ids[k] < 0 || static_cast<uint64_t>(ids[k]) >= rows)
      fail(t.source->name(), t.info.name,
           "token id " + std::to_string(ids[k]) + " is outside the vocabulary of " + std::to_string(rows) + " rows");
    reader.read(static_cast<uint64_t>(ids[k]) * width, width, out + k * width);
  }
}

namespace {

// The block loop of both multiplications: W's rows in blocks that fit the budget (each row
// costing its f32 copies, its raw bytes and `out_row_bytes` of output), the next block read
// while the pool multiplies this one; target(row0, rows) says where block rows' outputs go
// (y, its row stride, the column of the block's first row) and done(row0, rows) runs after.
struct BlockTarget {
  float* y;
  size_t stride, column0;
};

template <typename Target, typename Done>
void stream_blocks(const ModelTensor& w, const float* x, size_t tokens, const float* bias, ThreadPool& pool,
                   uint64_t budget_bytes, uint64_t out_row_bytes, const Target& target, const Done& done) {
  const size_t out = w.info.shape[0], in = w.info.shape[1];
  if (tokens == 0 || out == 0) return;
  WeightReader reader(w, kReaderScratch);
  // Two f32 blocks (the one being multiplied, the one being read) and the raw bytes of one.
  const uint64_t row_cost = in * (2 * sizeof(float) + reader.element_bytes()) + out_row_bytes;
  const uint64_t block_budget = std::min<uint64_t>(budget_bytes, 2 * kMaxBlockBytes);
  const size_t block_rows =
      static_cast<size_t>(std::max<uint64_t>(1, std::min<uint64_t>(out, block_budget / row_cost)));
  const size_t blocks = (out + block_rows - 1) / block_rows;
  const size_t token_parts = (tokens + kTaskTokens - 1) / kTaskTokens;

  std::vector<float> f32[2];
  auto load = [&](size_t b) {
    const size_t row0 = b * block_rows, rows = std::min(block_rows, out - row0);
    f32[b % 2].resize(rows * in);
    reader.read(static_cast<uint64_t>(row0) * in, rows * in, f32[b % 2].data());
  };
  load(0);
  for (size_t b = 0; b < blocks; ++b) {
    const size_t row0 = b * block_rows, rows = std::min(block_rows, out - row0);
    const size_t row_parts = (rows + kTaskRows - 1) / kTaskRows;
    const float* block = f32[b % 2].data();
    const BlockTarget to = target(row0, rows);
    const float* block_bias = bias ? bias + row0 - to.column0 : nullptr;  // indexed by output column
    ThreadPool::Batch batch(pool, row_parts * token_parts, [=](size_t task) {
      const size_t r0 = (task / token_parts) * kTaskRows, t0 = (task % token_parts) * kTaskTokens;
      multiply_part(block, in, r0, std::min(rows, r0 + kTaskRows), to.column0, x, t0,
                    std::min(tokens, t0 + kTaskTokens), block_bias, to.y, to.stride);
    });
    if (b + 1 < blocks) load(b + 1);
    batch.wait();
    done(row0, rows);
  }
}

}  // namespace

void multiply_streamed(const ModelTensor& w, const float* x, size_t tokens, const float* bias, float* y,
                       ThreadPool& pool, uint64_t budget_bytes) {
  const size_t out = w.info.shape[0];
  stream_blocks(
      w, x, tokens, bias, pool, budget_bytes, 0,
      [&](size_t row0, size_t) {
        return BlockTarget{y, out, row0};
      },
      [](size_t, size_t) {});
}

void multiply_streamed_blocks(const ModelTensor& w, const float* x, size_t tokens, ThreadPool& pool,
                              uint64_t budget_bytes, const BlockFn& on_block) {
  std::vector<float> y;
  stream_blocks(
      w, x, tokens, nullptr, pool, budget_bytes, tokens * sizeof(float),
      [&](size_t, size_t rows) {
        y.resize(tokens * rows);
        return BlockTarget{y.data(), rows, 0};
      },
      [&](size_t row0, size_t rows) { on_block(row0, rows, y.data()); });
}

}  // namespace decoder
}  // namespace wasmerge
