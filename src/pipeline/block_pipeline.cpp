#include "pipeline/block_pipeline.hpp"

#include <algorithm>
#include <cmath>

#include "wasmerge/convert.hpp"
#include "wasmerge/crc32.hpp"
#include "wasmerge/error.hpp"

namespace wasmerge {
namespace {

constexpr size_t kChunk = BlockPipeline::kChunk;
// Elements per block: large reads, yet blocks enough to overlap reading and computing.
constexpr size_t kBlockElements = 64 * kChunk;
// A sample (BlockPipeline::sample) is read as this many runs of neighbouring chunks.
constexpr size_t kSampleRuns = 4;
// The smallest page a host maps: writing one byte in each maps every page of a range.
constexpr size_t kPageBytes = 4096;

// A chunk of whole rows: as many as fit kChunk, and at least one however long it is.
uint64_t chunk_elements(uint64_t row_length) {
  return row_length ? std::max<uint64_t>(1, kChunk / row_length) * row_length : kChunk;
}

}  // namespace

BlockPipeline::BlockPipeline(ThreadPool& pool, PipelineBuffers& buffers, uint64_t budget_bytes, const OutputTensor& out,
                             const PipelineNeeds& needs, Progress on_block, ChunkObserver* observer)
    : pool_(pool),
      buffers_(buffers),
      out_(out),
      budget_bytes_(budget_bytes),
      on_block_(std::move(on_block)),
      observer_(observer),
      has_base_(out.base != nullptr),
      task_vectors_(needs.task_vectors && out.base),
      write_converts_models_(needs.write_converts_models),
      models_(out.inputs.size()),
      total_(out.info.num_elements()) {
  const uint64_t chunk = chunk_elements(needs.row_length);
  const uint64_t source_scratch = budget_bytes / 16;  // a remapped source's own pass (make_source)
  if (out.base) sources_.push_back(make_source(*out.base, out.base_rows.get(), source_scratch));
  for (const auto& in : out.inputs) sources_.push_back(make_source(in, source_scratch));

  size_t in_bytes = 0;
  for (const auto& s : sources_) in_bytes += dtype_size(s->dtype());
  const size_t out_bytes = dtype_size(out.info.dtype);
  const uint64_t budget = budget_bytes / 2;
  const uint64_t fit = budget / (2 * (in_bytes + out_bytes));
  if (fit < std::min<uint64_t>(chunk, total_))
    fail("", out.info.name,
         "the memory budget of " + std::to_string(budget_bytes >> 20) + " MB is too small to merge it" +
             (needs.row_length && needs.row_length > kChunk
                  ? " (this method reads whole rows, of " + std::to_string(needs.row_length) + " elements each)"
                  : ""));
  row_length_ = static_cast<size_t>(needs.row_length);
  chunk_ = static_cast<size_t>(chunk);
  // Blocks are whole chunks; a tensor smaller than one chunk is one block of its own size.
  const uint64_t most = std::max<uint64_t>(chunk, kBlockElements / chunk * chunk);
  block_ = fit >= chunk ? static_cast<size_t>(std::min<uint64_t>(fit / chunk * chunk, most)) : chunk_;
  const size_t block_rows = static_cast<size_t>(std::min<uint64_t>(block_, total_));
  cached_ = needs.several_passes &&
            total_ * in_bytes + 2 * block_rows * out_bytes + needs.bytes_per_element * total_ <= budget;

  const size_t rows = cached_ ? static_cast<size_t>(total_) : 2 * block_rows;
  uint8_t* arena = buffers_.inputs.at_least(rows * in_bytes);
  for (const auto& s : sources_) {
    input_data_.push_back(arena);
    arena += rows * dtype_size(s->dtype());
  }
  buffers_.output.at_least(2 * block_rows * out_bytes);
}

BlockPipeline::Block BlockPipeline::block_at(size_t index) const {
  const uint64_t first = index * static_cast<uint64_t>(block_);
  return Block{first, static_cast<size_t>(std::min<uint64_t>(block_, total_ - first)),
               cached_ ? static_cast<size_t>(first) : (index % 2) * block_, index};
}

uint64_t BlockPipeline::read_block(size_t index) {
  const Block b = block_at(index);
  uint64_t bytes = 0;
  for (size_t j = 0; j < sources_.size(); ++j) {
    const TensorSource& s = *sources_[j];
    const size_t size = dtype_size(s.dtype());
    uint8_t* data = input_data_[j] + b.slot * size;
    const bool there = loaded_ || (index == 0 && first_block_read_);
    if (!there) s.read(b.first, b.count, data);
    bytes += b.count * size;
  }
  return bytes;
}

void BlockPipeline::for_each_block(bool report_bytes, const Visit& visit) {
  const size_t blocks = static_cast<size_t>((total_ + block_ - 1) / block_);
  uint64_t bytes = blocks ? read_block(0) : 0;
  for (size_t b = 0; b < blocks; ++b) {
    uint64_t next_bytes = 0;
    const Block block = block_at(b);
    if (checks_finite()) nonfinite_.assign(chunks_in(block.count) * sources_.size(), kFinite);
    visit(block, [&] {
      if (b + 1 < blocks) next_bytes = read_block(b + 1);
    });
    on_block_(report_bytes ? bytes : 0);
    bytes = next_bytes;
  }
  if (cached_) loaded_ = true;
  finite_checked_ = true;
  first_block_read_ = false;
}

size_t BlockPipeline::sample(size_t most, const std::function<void(Chunk&, size_t)>& step) {
  if (total_ == 0 || most == 0) return 0;
  const uint64_t chunks = (total_ + chunk_ - 1) / chunk_;
  if (total_ <= block_) {  // one block: read it for the next pass, sample chunks of it
    if (!first_block_read_) read_block(0);
    first_block_read_ = true;  // after read_block: it reads unless the block is there
    const Block b = block_at(0);
    const size_t used = static_cast<size_t>(std::min<uint64_t>(most, chunks));
    pool_.parallel_for(used, [&](size_t slot) {
      Chunk chunk = load(b, static_cast<size_t>(slot * chunks / used));
      step(chunk, slot);
    });
    return used;
  }
  // Each sampled chunk is read where the pass will read it again (cached), or into the
  // second block's half of the buffers, which the pass overwrites before using. At most
  // a sixteenth of the tensor is read twice so. The chunks are taken as a few runs of
  // neighbours spread over the tensor, each run one read per input: in the page every
  // read is a round trip to its reader worker.
  const uint64_t room = cached_ ? chunks : block_ / chunk_;
  const size_t used = static_cast<size_t>(std::max<uint64_t>(1, std::min({uint64_t{most}, room, chunks / 16})));
  const size_t runs = std::min(used, kSampleRuns);
  std::vector<Block> sampled;
  for (size_t run = 0; run < runs; ++run) {
    const size_t length = used * (run + 1) / runs - used * run / runs;  // chunks in this run
    const uint64_t first = run * chunks / runs * chunk_;
    const size_t at = cached_ ? static_cast<size_t>(first) : block_ + sampled.size() * chunk_;
    const size_t count = static_cast<size_t>(std::min<uint64_t>(length * chunk_, total_ - first));
    for (size_t j = 0; j < sources_.size(); ++j)
      sources_[j]->read(first, count, input_data_[j] + at * dtype_size(sources_[j]->dtype()));
    for (size_t c = 0; c < length; ++c)
      sampled.push_back(Block{first + c * chunk_, std::min(chunk_, count - c * chunk_), at + c * chunk_, 0});
  }
  pool_.parallel_for(used, [&](size_t slot) {
    Chunk chunk = load(sampled[slot], 0);
    step(chunk, slot);
  });
  return used;
}

// The inputs are checked for NaN and infinity by the pool, a chunk at a time, in the first
// pass over them: on the engine thread, after each read, the check cost a tenth of a
// task arithmetic merge's time while the pool waited. Each chunk notes where its first
// non-finite entry of each source is; after the block, the first of the first source
// that has one is reported: the error one check of the whole block would give. A pass
// whose step sees every value anyway (TIES' scan of every |δ|) checks only the chunks
// the step flags (PassInputs::step_flags_nonfinite), which costs TIES' first pass a
// compare per four entries instead of a read of every input's bytes.
bool BlockPipeline::find_nonfinite(const Block& b, size_t c) {
  const size_t count = chunk_count(b, c);
  bool finite = true;
  for (size_t j = 0; j < sources_.size(); ++j) {
    const DType t = sources_[j]->dtype();
    const size_t bad = first_nonfinite(t, input_data_[j] + (b.slot + c * chunk_) * dtype_size(t), count);
    if (bad < count) nonfinite_[c * sources_.size() + j] = bad;
    finite = finite && bad == count;
  }
  return finite;
}

void BlockPipeline::report_nonfinite(const Block& b) const {
  const size_t chunks = chunks_in(b.count);
  for (size_t j = 0; j < sources_.size(); ++j)
    for (size_t c = 0; c < chunks; ++c) {
      const size_t bad = nonfinite_[c * sources_.size() + j];
      if (bad == kFinite) continue;
      const TensorSource& s = *sources_[j];
      const size_t at = b.slot + c * chunk_ + bad;
      float value;
      to_f32(s.dtype(), input_data_[j] + at * dtype_size(s.dtype()), &value, 1);
      fail(s.file(), s.tensor(),
           std::string(std::isnan(value) ? "NaN" : "infinity") + " at index " +
               std::to_string(b.first + c * chunk_ + bad) + " (allow_nonfinite: true merges it anyway)");
    }
}

void Chunk::convert_model(size_t k) const {
  const RawModel& m = raw_models[k];
  to_f32_minus_base(m.dtype, m.bytes, m.base, models[k], count);
}

void Chunk::convert_models() {
  if (converted) return;
  for (size_t k = 0; k < model_count; ++k) convert_model(k);
  converted = true;
}

Chunk BlockPipeline::load(const Block& b, size_t c, bool convert_models) const {
  thread_local std::vector<float> scratch;
  thread_local std::vector<float*> models;
  thread_local std::vector<RawModel> raw_models;
  scratch.resize((models_ + 1 + kScratchChunks + 1) * chunk_);  // + the write's result
  models.resize(models_);
  raw_models.resize(models_);
  Chunk chunk;
  chunk.first = b.first + c * chunk_;
  chunk.count = chunk_count(b, c);
  chunk.capacity = chunk_;
  chunk.row_length = row_length_;
  chunk.index = static_cast<size_t>(chunk.first / chunk_);
  chunk.model_count = models_;
  chunk.observer = observer_;
  const size_t element = b.slot + c * chunk_;
  size_t j = 0;
  if (has_base_) {
    chunk.base = scratch.data();
    const DType t = sources_[j]->dtype();
    to_f32(t, input_data_[j++] + element * dtype_size(t), chunk.base, chunk.count);
  }
  for (size_t k = 0; k < models_; ++k, ++j) {
    models[k] = scratch.data() + (k + 1) * chunk_;
    const DType t = sources_[j]->dtype();
    const uint8_t* raw = input_data_[j] + element * dtype_size(t);
    raw_models[k] = RawModel{raw, t, task_vectors_ ? chunk.base : nullptr};  // δ_k = m_k − b
  }
  chunk.models = models.data();
  chunk.raw_models = raw_models.data();
  chunk.converted = false;
  if (convert_models) chunk.convert_models();
  chunk.scratch = scratch.data() + (models_ + 1) * chunk_;
  return chunk;
}

// A cached tensor's inputs go to memory that is fresh the first time a tensor that large
// is read: the kernel maps each page on its first write (1.6 us per 4 KiB page on the
// 2-core VM, ~90 ms for the bench set's 229 MB embedding), and that first write is the
// engine thread's read, which the pool then waits for. So while the pool computes block b
// (and b+1 is read), it also writes a byte to every page of block b+2, one task per
// source. Pages already mapped cost a store each; the read overwrites the bytes.
size_t BlockPipeline::touch_tasks(const Block& b) const {
  const bool ahead_unread = cached_ && !loaded_ && (b.index + 2) * static_cast<uint64_t>(block_) < total_;
  return ahead_unread ? sources_.size() : 0;
}

void BlockPipeline::touch_ahead(const Block& b, size_t source) const {
  const Block ahead = block_at(b.index + 2);
  const size_t size = dtype_size(sources_[source]->dtype());
  volatile uint8_t* bytes = input_data_[source] + ahead.slot * size;
  const size_t length = ahead.count * size;
  for (size_t i = 0; i < length; i += kPageBytes) bytes[i] = 0;
}

void BlockPipeline::run_chunks(const Block& b, const OrderedCount* ordered, PassInputs inputs,
                               const std::function<void(Chunk&, size_t)>& task,
                               const std::function<void()>& meanwhile) {
  const size_t chunks = chunks_in(b.count);
  const bool checking = checks_finite();
  const bool check_first = checking && !inputs.step_flags_nonfinite;
  auto run = [&](size_t c) {
    if (check_first && !find_nonfinite(b, c)) return;  // no step sees a NaN: the block fails below
    Chunk chunk = load(b, c, inputs.convert_models);
    if (ordered) chunk.before = counts_.data() + c * ordered->counters();
    task(chunk, c);
    if (checking && chunk.maybe_nonfinite) find_nonfinite(b, c);  // may find none: a δ overflowed
  };
  // With an ordered count whose counting reads the values, the I/O overlaps the counting
  // and the chunks run after it; otherwise it overlaps the chunks.
  const bool counting_overlaps = ordered && ordered->reads_values();
  if (ordered) count_before_chunks(b, *ordered, meanwhile);
  if (counting_overlaps) {
    pool_.parallel_for(chunks, run);
  } else {
    const size_t touches = touch_tasks(b);
    ThreadPool::Batch batch(pool_, chunks + touches,
                            [&](size_t i) { i < chunks ? run(i) : touch_ahead(b, i - chunks); });
    meanwhile();
    batch.wait();
  }
  if (checking) report_nonfinite(b);  // before a fold or the sink sees the block
}

// Gives each chunk of b the ordered count's totals over the chunks before it (counts_),
// counting on the pool while this thread runs meanwhile() when the count reads values.
void BlockPipeline::count_before_chunks(const Block& b, const OrderedCount& ordered,
                                        const std::function<void()>& meanwhile) {
  const size_t chunks = chunks_in(b.count);
  const size_t n = ordered.counters();
  counts_.assign(chunks * n, 0);
  if (!ordered.reads_values()) {
    for (size_t c = 0; c < chunks; ++c) {
      Chunk bare;
      bare.first = b.first + c * chunk_;
      bare.count = chunk_count(b, c);
      bare.index = static_cast<size_t>(bare.first / chunk_);
      ordered.count(bare, counts_.data() + c * n);
    }
  } else {
    ThreadPool::Batch batch(pool_, chunks, [&](size_t c) {
      Chunk chunk = load(b, c);
      ordered.count(chunk, counts_.data() + c * n);
    });
    meanwhile();
    batch.wait();
  }
  for (size_t c = 0; c < chunks; ++c)  // own counts -> totals before each chunk, across blocks
    for (size_t k = 0; k < n; ++k) {
      const uint64_t here = counts_[c * n + k];
      counts_[c * n + k] = running_[k];
      running_[k] += here;
    }
}

void BlockPipeline::pass(bool report_bytes, const OrderedCount* ordered, PassInputs inputs,
                         const std::function<void(size_t)>& start, const std::function<void(Chunk&, size_t)>& step,
                         const std::function<void()>& after_block) {
  running_.assign(ordered ? ordered->counters() : 0, 0);
  for_each_block(report_bytes, [&](const Block& b, const std::function<void()>& read_next) {
    start(chunks_in(b.count));
    run_chunks(b, ordered, inputs, step, read_next);
    after_block();
  });
}

void BlockPipeline::visit(const std::function<void(Chunk&, size_t)>& step, const std::function<void(size_t)>& start,
                          const std::function<void()>& after_block, const OrderedCount* ordered) {
  pass(true, ordered, PassInputs(), start, step, after_block);
}

std::vector<uint64_t> BlockPipeline::tally(size_t bins, const std::function<void(Chunk&, uint32_t*)>& count) {
  const size_t tasks = pool_.size();
  std::vector<uint64_t> totals(bins, 0);
  std::vector<std::vector<uint32_t>> local(tasks, std::vector<uint32_t>(bins));
  for_each_block(false, [&](const Block& b, const std::function<void()>& read_next) {
    const size_t chunks = chunks_in(b.count);
    ThreadPool::Batch batch(pool_, tasks, [&](size_t task) {
      std::vector<uint32_t>& counts = local[task];
      std::fill(counts.begin(), counts.end(), 0);
      for (size_t c = chunks * task / tasks; c < chunks * (task + 1) / tasks; ++c) {
        if (checks_finite() && !find_nonfinite(b, c)) continue;
        Chunk chunk = load(b, c);
        count(chunk, counts.data());
      }
    });
    read_next();
    batch.wait();
    if (checks_finite()) report_nonfinite(b);
    for (const auto& counts : local)
      for (size_t bin = 0; bin < bins; ++bin) totals[bin] += counts[bin];
  });
  return totals;
}

void BlockPipeline::write(ByteSink& sink, const std::function<void(Chunk&, float*)>& step,
                          const OrderedCount* ordered) {
  const size_t out_size = dtype_size(out_.info.dtype);
  const uint8_t* pending = nullptr;  // the previous block's output, written while this one computes
  size_t pending_bytes = 0;
  const bool crc = sink.wants_crc();  // each chunk's on the pool, joined in order per block
  std::vector<uint32_t> chunk_crcs;
  uint32_t pending_crc = 0;
  auto write_pending = [&] {
    if (!pending) return;
    if (crc) sink.write_with_crc(pending, pending_bytes, pending_crc);
    else sink.write(pending, pending_bytes);
    pending = nullptr;
  };
  running_.assign(ordered ? ordered->counters() : 0, 0);
  for_each_block(true, [&](const Block& b, const std::function<void()>& read_next) {
    uint8_t* output = buffers_.output.data() + (b.index % 2) * block_ * out_size;
    const size_t chunks = chunks_in(b.count);
    if (crc) chunk_crcs.assign(chunks, 0);
    auto merge_chunk = [&, output](Chunk& chunk, size_t c) {
      float* result = chunk.scratch + kScratchChunks * chunk_;
      uint8_t* bytes = output + c * chunk_ * out_size;
      step(chunk, result);
      from_f32(out_.info.dtype, result, bytes, chunk.count);
      if (crc) chunk_crcs[c] = crc32(bytes, chunk.count * out_size);
    };
    PassInputs inputs;
    inputs.convert_models = !write_converts_models_;
    run_chunks(b, ordered, inputs, merge_chunk, [&] {
      read_next();
      write_pending();
    });
    pending = output;
    pending_bytes = b.count * out_size;
    if (crc) {
      pending_crc = chunk_crcs[0];
      for (size_t c = 1; c < chunks; ++c)
        pending_crc = crc32_combine(pending_crc, chunk_crcs[c], chunk_count(b, c) * out_size);
    }
  });
  write_pending();
}

}  // namespace wasmerge
