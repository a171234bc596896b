#pragma once
// How one output tensor streams: the block pipeline owns the block layout, the reads
// (the next block is read while the pool computes this one; the last block's output is
// written meanwhile), the f32 conversion of each chunk, and the order in which per-chunk
// results are combined. Methods (method.hpp) only write per-chunk arithmetic.
//
// Determinism lives here, not in the methods: work is split into fixed chunks of
// kChunk elements (or of whole rows, when a method asks) whatever the thread count and
// budget; a reduction is a partial per chunk, folded in chunk order on one thread; tallies
// are integer counts (exact in any order); an ordered count gives each chunk the totals of
// all chunks before it.
//
// Memory: two blocks of every input and of the output (double buffering), or, when the
// method makes several passes and the whole tensor fits half the budget, every input
// whole — read once and kept between passes. The bytes never depend on which.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "pipeline/tensor_source.hpp"
#include "wasmerge/byte_io.hpp"
#include "wasmerge/method.hpp"
#include "wasmerge/plan.hpp"
#include "wasmerge/thread_pool.hpp"

namespace wasmerge {

// Sees the values a method reports per stage (explain: a window of one tensor).
class ChunkObserver {
 public:
  virtual ~ChunkObserver() = default;
  // model: -1 for a stage of the merged tensor, else the model's index.
  virtual void capture(std::string_view stage, int model, uint64_t first, const float* values, size_t n) = 0;
};

// One input's values in a chunk as read: to_f32(dtype, bytes), minus base when it is not
// null (task vectors). For a step that converts them itself (PassInputs::convert_models).
struct RawModel {
  const uint8_t* bytes = nullptr;
  DType dtype = DType::F32;
  const float* base = nullptr;
};

// What a pass does with each chunk's inputs before its step.
struct PassInputs {
  // Converts every input to f32 (Chunk::models), or else the base alone: the step reads
  // the models' bytes (Chunk::raw_models) and converts them on the way in, or has them
  // converted (Chunk::convert_model).
  bool convert_models = true;
  // In the pass that checks the inputs for NaN and infinity: checks each chunk before its
  // step (which then never sees one), or only the chunks its step flags (Chunk::
  // maybe_nonfinite) after it: for a step that looks at every value of every input
  // anyway and copes with a NaN, whose partial is dropped when the block fails.
  bool step_flags_nonfinite = false;
};

// One chunk as a method's step sees it, in this thread's scratch (all writable).
struct Chunk {
  uint64_t first = 0;              // flat index of its first element
  size_t count = 0;                // elements, at most capacity
  size_t capacity = 0;             // elements of a full chunk: the stride of every array below
  size_t row_length = 0;           // whole rows of this many elements, or 0 (plain chunks)
  size_t index = 0;                // chunk number within the tensor
  float* base = nullptr;           // the base's values, when the tensor has a base
  float* const* models = nullptr;        // each input's values; δ_k = m_k − b with task_vectors
  const RawModel* raw_models = nullptr;  // each input's values as read
  bool converted = true;                 // false: models[k] holds nothing until convert_model(k)
  size_t model_count = 0;
  float* scratch = nullptr;          // BlockPipeline::kScratchChunks · capacity floats of the method's own
  const uint64_t* before = nullptr;  // an ordered count's totals over the chunks before this one
  bool maybe_nonfinite = false;      // the step's flag (PassInputs::step_flags_nonfinite)
  ChunkObserver* observer = nullptr;

  void observe(std::string_view stage, int model, const float* values) const {
    if (observer) observer->capture(stage, model, first, values, count);
  }
  void convert_model(size_t k) const;  // models[k] from raw_models[k]
  void convert_models();               // every model, unless converted
};

// A count per chunk whose running totals, in tensor order, a pass's step reads (TIES:
// how many entries equal to a cut come before the chunk, so ties keep the lowest indices).
class OrderedCount {
 public:
  virtual ~OrderedCount() = default;
  virtual size_t counters() const = 0;
  virtual void count(const Chunk& chunk, uint64_t* counts) const = 0;  // this chunk's own
  // False when count() knows every chunk's counts already (an earlier pass kept them) and
  // reads only Chunk::index: the pipeline then skips converting the chunk to count it.
  virtual bool reads_values() const { return true; }
};

// Bytes that only grow, never initialized: zero-filling a fresh cached tensor's inputs
// before reading over them cost a merge of cached tensors a seventh of its time.
class GrowingBuffer {
 public:
  uint8_t* at_least(size_t bytes) {
    if (bytes > size_) {
      data_.reset();  // the old bytes go first: the peak is the larger buffer alone
      data_.reset(new uint8_t[bytes]);
      size_ = bytes;
    }
    return data_.get();
  }
  uint8_t* data() { return data_.get(); }

 private:
  std::unique_ptr<uint8_t[]> data_;
  size_t size_ = 0;
};

// Storage reused from tensor to tensor (the pipeline of each tensor lays it out). One
// buffer for every input keeps the high-water mark at the largest layout one tensor needs.
struct PipelineBuffers {
  GrowingBuffer inputs;  // every source's bytes, one after another
  GrowingBuffer output;
};

class BlockPipeline {
 public:
  static constexpr size_t kChunk = 16384;  // elements: the unit of parallel work and of every reduction
  static constexpr size_t kScratchChunks = 3;
  using Progress = std::function<void(uint64_t input_bytes)>;  // after each block; 0 but in the write

  BlockPipeline(ThreadPool& pool, PipelineBuffers& buffers, uint64_t budget_bytes, const OutputTensor& out,
                const PipelineNeeds& needs, Progress on_block, ChunkObserver* observer = nullptr);

  uint64_t elements() const { return total_; }
  uint64_t budget() const { return budget_bytes_; }
  size_t chunk_capacity() const { return chunk_; }  // elements of a full chunk
  size_t model_count() const { return models_; }
  bool cached() const { return cached_; }  // every input stays in memory between passes
  // Each model's values are δ = m − b, or there is no base: they cover the base's values.
  bool base_in_every_model() const { return task_vectors_ || !has_base_; }

  // One pass: per_chunk(chunk) on the pool gives a partial, fold(partial) takes them on
  // this thread in chunk order.
  template <class Partial>
  void reduce(const std::function<Partial(Chunk&)>& per_chunk, const std::function<void(Partial&)>& fold,
              const OrderedCount* ordered = nullptr, PassInputs inputs = {}) {
    std::vector<Partial> partials;
    pass(
        false, ordered, inputs, [&](size_t chunks) { partials.assign(chunks, Partial()); },
        [&](Chunk& c, size_t in_block) { partials[in_block] = per_chunk(c); },
        [&] {
          for (auto& p : partials) fold(p);
        });
  }
  // One pass of integer counts into `bins` counters: each pool task keeps its own
  // (32-bit within a block), summed into the totals after each block.
  std::vector<uint64_t> tally(size_t bins, const std::function<void(Chunk&, uint32_t* counts)>& count);
  // The write pass: step(chunk, out) gives the chunk's f32 result, converted to the
  // output dtype and streamed to sink in order. report_bytes: progress counts the inputs.
  void write(ByteSink& sink, const std::function<void(Chunk&, float* out)>& step,
             const OrderedCount* ordered = nullptr);
  // Runs step on up to `most` chunks spread over the tensor, on the pool, before any pass
  // (a sample for a selection's bracket); slot: which of them, in tensor order. A tensor
  // of one block is read now and the next pass reuses it; otherwise the sampled chunks are
  // read on their own (a small share of the tensor). Returns how many chunks ran.
  size_t sample(size_t most, const std::function<void(Chunk&, size_t slot)>& step);
  // Runs task(i) for i in [0, n) on the pool: independent work between passes (a
  // bracket per selection), which would otherwise leave the pool waiting.
  void parallel_for(size_t n, const std::function<void(size_t)>& task) { pool_.parallel_for(n, task); }
  // A pass that writes nothing but reports its input bytes (the analysis's last pass).
  void visit(const std::function<void(Chunk&, size_t in_block)>& step, const std::function<void(size_t chunks)>& start,
             const std::function<void()>& after_block, const OrderedCount* ordered = nullptr);

 private:
  struct Block {
    uint64_t first;
    size_t count;
    size_t slot;  // where it sits in the input buffers, in elements
    size_t index;
  };
  using Visit = std::function<void(const Block&, const std::function<void()>& read_next)>;

  Block block_at(size_t index) const;
  uint64_t read_block(size_t index);
  void for_each_block(bool report_bytes, const Visit& visit);
  bool checks_finite() const { return out_.check_finite && !finite_checked_; }  // this pass looks for NaN
  bool find_nonfinite(const Block& b, size_t c);                                // on the pool: chunk c is finite
  void report_nonfinite(const Block& b) const;                                  // after the block: fails at the first
  size_t chunks_in(size_t count) const { return (count + chunk_ - 1) / chunk_; }
  size_t chunk_count(const Block& b, size_t c) const { return std::min(chunk_, b.count - c * chunk_); }  // elements
  // this thread's chunk c of block b, converted to f32 (the base alone without convert_models)
  Chunk load(const Block& b, size_t c, bool convert_models = true) const;
  // Pool tasks that map the pages of the block after b's next one, while b computes and
  // its next one is read (the first pass of a cached tensor; 0 otherwise); see the .cpp.
  size_t touch_tasks(const Block& b) const;
  void touch_ahead(const Block& b, size_t task) const;
  void pass(bool report_bytes, const OrderedCount* ordered, PassInputs inputs,
            const std::function<void(size_t chunks)>& start, const std::function<void(Chunk&, size_t in_block)>& step,
            const std::function<void()>& after_block);
  // The pool runs task on every chunk of b while this thread runs meanwhile(); with an
  // ordered count, the counts come first (overlapped instead) and the task after.
  void run_chunks(const Block& b, const OrderedCount* ordered, PassInputs inputs,
                  const std::function<void(Chunk&, size_t)>& task, const std::function<void()>& meanwhile);
  void count_before_chunks(const Block& b, const OrderedCount& ordered, const std::function<void()>& meanwhile);

  ThreadPool& pool_;
  PipelineBuffers& buffers_;
  const OutputTensor& out_;
  uint64_t budget_bytes_;
  Progress on_block_;
  ChunkObserver* observer_;
  std::vector<std::unique_ptr<TensorSource>> sources_;  // the base (if any), then the inputs
  std::vector<uint8_t*> input_data_;                     // each source's bytes in the buffers
  bool has_base_, task_vectors_;
  bool write_converts_models_;  // PipelineNeeds::write_converts_models
  size_t models_;
  uint64_t total_;
  size_t row_length_;  // 0: plain chunks
  size_t chunk_;       // elements per chunk: kChunk, or whole rows
  size_t block_;       // elements per block, whole chunks
  bool cached_ = false;
  bool loaded_ = false;                     // ... and the inputs are there
  bool finite_checked_ = false;             // a pass looked at every input element
  static constexpr size_t kFinite = SIZE_MAX;
  std::vector<size_t> nonfinite_;           // per chunk of the block and source: the first, or kFinite
  bool first_block_read_ = false;           // sample_first_block read it for the next pass
  std::vector<uint64_t> counts_, running_;  // an ordered count: per chunk of the block, and carried
};

}  // namespace wasmerge
