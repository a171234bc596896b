#include "wasmerge/tensor_passes.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include "wasmerge/convert.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/kernels.hpp"

namespace wasmerge {
namespace {

constexpr size_t kChunk = TensorExecutor::kChunkElements;
// Elements per block: large reads, yet blocks enough to overlap reading and computing.
constexpr size_t kBlockElements = 64 * kChunk;

size_t chunks_in(size_t count) { return (count + kChunk - 1) / kChunk; }

// Σ w_k, or 1 when normalizing is off or the sum vanishes (SPEC §2, no consensus).
float weight_divisor(const OutputTensor& out) {
  if (!out.normalize) return 1.0f;
  double sum = 0;
  for (const auto& in : out.inputs) sum += in.weight;
  return std::fabs(sum) < 1e-8 ? 1.0f : static_cast<float>(sum);
}

bool needs_l1_pass(const OutputTensor& out) {
  return out.rescale && !out.rescale_inverse_density && out.sparsify != Sparsify::None;
}

}  // namespace

TensorPasses::TensorPasses(TensorExecutor& executor, const OutputTensor& out, Explanation* explain)
    : ex_(executor), out_(out), explain_(explain), models_(out.inputs.size()), total_(out.info.num_elements()), state_(models_) {
  if (out.base) sources_.push_back(out.base);
  for (const auto& in : out.inputs) sources_.push_back(in.tensor);

  for (size_t k = 0; k < models_; ++k) {
    ModelState& s = state_[k];
    const double d = out.inputs[k].density;
    if (out.sparsify == Sparsify::Magnitude) {
      s.select = RadixSelect(total_, magnitude_keep_count(d, total_));
      s.cut = s.select.trivial_cut();
    } else {
      s.cut.keep_all = true;
    }
    s.dare_threshold = dare_threshold(d);
    if (out.rescale && out.rescale_inverse_density) s.rescale = static_cast<float>(1.0 / d);
  }
  ties_before_.resize(models_);

  // Memory: two blocks of every input and of the output (double buffering), or, when
  // the method makes several passes and the whole tensor fits, every input whole.
  size_t in_bytes = 0;
  for (const auto* s : sources_) in_bytes += dtype_size(s->info.dtype);
  const size_t out_bytes = dtype_size(out.info.dtype);
  const uint64_t budget = ex_.budget() / 2;
  const uint64_t fit = budget / (2 * (in_bytes + out_bytes));
  if (fit < std::min<uint64_t>(kChunk, total_))
    fail("", out.info.name, "the memory budget of " + std::to_string(ex_.budget() >> 20) + " MB is too small to merge it");
  // Blocks are whole chunks; a tensor smaller than one chunk is one block of its own size.
  block_ = fit >= kChunk ? static_cast<size_t>(std::min<uint64_t>(fit / kChunk * kChunk, kBlockElements)) : kChunk;
  const size_t block_rows = static_cast<size_t>(std::min<uint64_t>(block_, total_));
  const bool several_passes = needs_l1_pass(out) || any_selection();
  const bool record_dare = out.sparsify == Sparsify::Random && needs_l1_pass(out);
  const uint64_t dare_bytes = record_dare ? models_ * total_ : 0;
  cached_ = several_passes && total_ * in_bytes + 2 * block_rows * out_bytes + dare_bytes <= budget;
  if (cached_ && record_dare) dare_kept_.assign(models_, std::vector<uint8_t>(total_));

  const size_t rows = cached_ ? static_cast<size_t>(total_) : 2 * block_rows;
  ex_.input_blocks().resize(sources_.size());
  for (size_t j = 0; j < sources_.size(); ++j) ex_.input_blocks()[j].resize(rows * dtype_size(sources_[j]->info.dtype));
  ex_.output_block().resize(2 * block_rows * out_bytes);
}

void TensorPasses::run(ByteSink& sink, const TensorExecutor::BlockDone& on_block) {
  select_cuts(on_block);
  if (needs_l1_pass(out_)) l1_pass(on_block);
  write_pass(sink, on_block);
}

// Each magnitude trim's cut. A tensor of one chunk is cut directly from its |δ| bit
// patterns (selecting the k-th largest, O(n)): the same cut as the two histogram passes,
// which cost 65536 bins a model however small the tensor.
void TensorPasses::select_cuts(const TensorExecutor::BlockDone& on_block) {
  if (!any_selection()) return;
  if (total_ > kChunk) {
    histogram_pass(0, on_block);
    histogram_pass(1, on_block);
    return;
  }
  for_each_block(on_block, false, [&](const Block& b, const std::function<void()>& read_next) {
    read_next();
    std::vector<float*> deltas;
    load_chunk(b.slot, b.count, deltas);
    std::vector<uint32_t> bits(b.count);
    for (size_t k = 0; k < models_; ++k) {
      ModelState& s = state_[k];
      if (!s.select.needs_passes()) continue;
      for (size_t i = 0; i < b.count; ++i) bits[i] = magnitude_bits(deltas[k][i]);
      const uint64_t keep = s.select.keep();
      std::nth_element(bits.begin(), bits.begin() + static_cast<long>(keep - 1), bits.end(), std::greater<uint32_t>());
      s.cut = MagnitudeCut();
      s.cut.threshold = bits[keep - 1];
      const auto above = static_cast<uint64_t>(std::count_if(bits.begin(), bits.end(), [&](uint32_t v) { return v > s.cut.threshold; }));
      s.cut.equal_total = static_cast<uint64_t>(std::count(bits.begin(), bits.end(), s.cut.threshold));
      s.cut.equal_keep = keep - above;
    }
  });
}

TensorPasses::Block TensorPasses::block_at(size_t index) const {
  const uint64_t first = index * static_cast<uint64_t>(block_);
  return Block{first, static_cast<size_t>(std::min<uint64_t>(block_, total_ - first)),
               cached_ ? static_cast<size_t>(first) : (index % 2) * block_, index};
}

uint64_t TensorPasses::read_block(size_t index) {
  const Block b = block_at(index);
  uint64_t bytes = 0;
  for (size_t j = 0; j < sources_.size(); ++j) {
    const ModelTensor& t = *sources_[j];
    const size_t size = dtype_size(t.info.dtype);
    uint8_t* data = ex_.input_blocks()[j].data() + b.slot * size;
    if (!loaded_) t.source->read(t.absolute_offset() + b.first * size, b.count * size, data);
    if (out_.check_finite && !finite_checked_) check_finite(t, data, b.first, b.count);
    bytes += b.count * size;
  }
  return bytes;
}

void TensorPasses::for_each_block(const TensorExecutor::BlockDone& on_block, bool report_bytes, const Visit& visit) {
  const size_t blocks = static_cast<size_t>((total_ + block_ - 1) / block_);
  uint64_t bytes = blocks ? read_block(0) : 0;
  for (size_t b = 0; b < blocks; ++b) {
    uint64_t next_bytes = 0;
    visit(block_at(b), [&] {
      if (b + 1 < blocks) next_bytes = read_block(b + 1);
    });
    on_block(report_bytes ? bytes : 0);
    bytes = next_bytes;
  }
  if (cached_) loaded_ = true;
  finite_checked_ = true;
}

void TensorPasses::check_finite(const ModelTensor& t, const uint8_t* data, uint64_t first, size_t count) const {
  const size_t bad = first_nonfinite(t.info.dtype, data, count);
  if (bad == count) return;
  float value;
  to_f32(t.info.dtype, data + bad * dtype_size(t.info.dtype), &value, 1);
  fail(t.source->name(), t.info.name,
       std::string(std::isnan(value) ? "NaN" : "infinity") + " at index " + std::to_string(first + bad) +
           " (allow_nonfinite: true merges it anyway)");
}

float* TensorPasses::load_chunk(size_t element, size_t count, std::vector<float*>& deltas) {
  thread_local std::vector<float> scratch;
  scratch.resize((models_ + 4) * kChunk);
  float* base = scratch.data();
  deltas.resize(models_);
  size_t j = 0;
  if (out_.base) {
    const DType t = out_.base->info.dtype;
    to_f32(t, ex_.input_blocks()[j++].data() + element * dtype_size(t), base, count);
  }
  for (size_t k = 0; k < models_; ++k, ++j) {
    deltas[k] = base + (k + 1) * kChunk;
    const DType t = out_.inputs[k].tensor->info.dtype;
    to_f32(t, ex_.input_blocks()[j].data() + element * dtype_size(t), deltas[k], count);
    if (out_.base) subtract(deltas[k], base, count);  // δ_k = m_k − b
  }
  return base;
}

void TensorPasses::apply_mask(size_t k, float* delta, size_t count, uint64_t first_index, uint64_t ties_seen) {
  if (out_.sparsify == Sparsify::Random) {
    uint8_t* kept = dare_kept_.empty() ? nullptr : dare_kept_[k].data() + first_index;
    if (kept && dare_recorded_) apply_kept(kept, delta, count);
    else dare_mask(out_.inputs[k].dare_stream, state_[k].dare_threshold, delta, count, first_index, kept);
  } else if (out_.sparsify == Sparsify::Magnitude) magnitude_mask(state_[k].cut, delta, count, ties_seen);
}

// Histograms of |δ| per model: level 0 over the high 16 bits, level 1 over the low 16
// bits of the entries under the chosen prefix. One task per thread, each with its own
// counts over a run of chunks, summed afterwards (integer sums: any order is exact).
void TensorPasses::histogram_pass(int level, const TensorExecutor::BlockDone& on_block) {
  const size_t tasks = ex_.pool().size();
  std::vector<RadixSelect::Histogram> totals(models_, RadixSelect::Histogram(RadixSelect::kBins, 0));
  std::vector<std::vector<uint32_t>> local(tasks, std::vector<uint32_t>(models_ * RadixSelect::kBins));
  for_each_block(on_block, false, [&](const Block& b, const std::function<void()>& read_next) {
    const size_t chunks = chunks_in(b.count);
    ThreadPool::Batch batch(ex_.pool(), tasks, [&](size_t task) {
      std::vector<uint32_t>& hist = local[task];
      std::fill(hist.begin(), hist.end(), 0);
      std::vector<float*> deltas;
      for (size_t c = chunks * task / tasks; c < chunks * (task + 1) / tasks; ++c) {
        const size_t n = std::min(kChunk, b.count - c * kChunk);
        load_chunk(b.slot + c * kChunk, n, deltas);
        for (size_t k = 0; k < models_; ++k) {
          if (!state_[k].select.needs_passes()) continue;
          uint32_t* h = hist.data() + k * RadixSelect::kBins;
          const float* d = deltas[k];
          if (level == 0) {
            for (size_t i = 0; i < n; ++i) ++h[magnitude_bits(d[i]) >> 16];
          } else {
            const uint32_t prefix = state_[k].select.prefix();
            for (size_t i = 0; i < n; ++i) {
              const uint32_t bits = magnitude_bits(d[i]);
              if ((bits >> 16) == prefix) ++h[bits & 0xFFFF];
            }
          }
        }
      }
    });
    read_next();
    batch.wait();
    for (const auto& hist : local)
      for (size_t k = 0; k < models_; ++k)
        for (size_t bin = 0; bin < RadixSelect::kBins; ++bin) totals[k][bin] += hist[k * RadixSelect::kBins + bin];
  });
  for (size_t k = 0; k < models_; ++k) {
    ModelState& s = state_[k];
    if (!s.select.needs_passes()) continue;
    if (level == 0) s.select.finish_high_pass(totals[k]);
    else s.cut = s.select.finish_low_pass(totals[k]);
  }
}

bool TensorPasses::any_selection() const {
  return std::any_of(state_.begin(), state_.end(), [](const ModelState& s) { return s.select.needs_passes(); });
}

bool TensorPasses::any_partial_tie() const {
  return std::any_of(state_.begin(), state_.end(), [](const ModelState& s) { return s.cut.partial_tie(); });
}

std::function<void(size_t)> TensorPasses::tie_count_task(const Block& b) {
  const size_t chunks = chunks_in(b.count);
  for (size_t k = 0; k < models_; ++k) ties_before_[k].assign(chunks, 0);
  return [this, b](size_t c) {
    std::vector<float*> deltas;
    const size_t n = std::min(kChunk, b.count - c * kChunk);
    load_chunk(b.slot + c * kChunk, n, deltas);
    for (size_t k = 0; k < models_; ++k) {
      if (!state_[k].cut.partial_tie()) continue;
      uint64_t ties = 0;
      for (size_t i = 0; i < n; ++i) ties += magnitude_bits(deltas[k][i]) == state_[k].cut.threshold;
      ties_before_[k][c] = ties;
    }
  };
}

void TensorPasses::finish_tie_count() {
  for (size_t k = 0; k < models_; ++k) {  // counts -> running prefix, across blocks too
    uint64_t running = state_[k].ties_seen;
    for (auto& t : ties_before_[k]) {
      const uint64_t here = t;
      t = running;
      running += here;
    }
    state_[k].ties_seen = running;
  }
}

// The pool runs task on every chunk of the block while this thread does meanwhile()
// (the next read, the last write). With ties at a cut, counting them per chunk comes
// first, overlapped instead, since the task needs where each chunk's count starts.
void TensorPasses::run_chunks(const Block& b, const std::function<void(size_t)>& task, const std::function<void()>& meanwhile) {
  const size_t chunks = chunks_in(b.count);
  const bool ties = any_partial_tie();
  {
    ThreadPool::Batch batch(ex_.pool(), chunks, ties ? tie_count_task(b) : task);
    meanwhile();
    batch.wait();
  }
  if (ties) {
    finish_tie_count();
    ex_.pool().parallel_for(chunks, task);
  }
}

// ‖δ‖₁ and ‖δ_kept‖₁ per model, as f64 partials per chunk summed in chunk order.
void TensorPasses::l1_pass(const TensorExecutor::BlockDone& on_block) {
  for (auto& s : state_) s.ties_seen = 0;
  std::vector<double> all, kept;
  for_each_block(on_block, false, [&](const Block& b, const std::function<void()>& read_next) {
    const size_t chunks = chunks_in(b.count);
    all.assign(chunks * models_, 0.0);
    kept.assign(chunks * models_, 0.0);
    auto sum_chunk = [&](size_t c) {
      std::vector<float*> deltas;
      const size_t n = std::min(kChunk, b.count - c * kChunk);
      load_chunk(b.slot + c * kChunk, n, deltas);
      for (size_t k = 0; k < models_; ++k) {
        all[c * models_ + k] = abs_sum(deltas[k], n);
        apply_mask(k, deltas[k], n, b.first + c * kChunk, ties_before_[k].empty() ? 0 : ties_before_[k][c]);
        kept[c * models_ + k] = abs_sum(deltas[k], n);
      }
    };
    run_chunks(b, sum_chunk, read_next);
    for (size_t c = 0; c < chunks; ++c)
      for (size_t k = 0; k < models_; ++k) {
        state_[k].l1_all += all[c * models_ + k];
        state_[k].l1_kept += kept[c * models_ + k];
      }
  });
  dare_recorded_ = true;
  for (auto& s : state_)  // mergekit's L1 match, skipped when either norm vanishes
    s.rescale = (s.l1_all < 1e-7 || s.l1_kept < 1e-7) ? 1.0f : static_cast<float>(s.l1_all / s.l1_kept);
}

void TensorPasses::write_pass(ByteSink& sink, const TensorExecutor::BlockDone& on_block) {
  for (auto& s : state_) s.ties_seen = 0;
  const float divisor = weight_divisor(out_);
  std::vector<float> weights(models_);
  for (size_t k = 0; k < models_; ++k) weights[k] = out_.inputs[k].weight;
  const size_t out_size = dtype_size(out_.info.dtype);
  const uint8_t* pending = nullptr;  // the previous block's output, written while this one computes
  size_t pending_bytes = 0;

  for_each_block(on_block, true, [&](const Block& b, const std::function<void()>& read_next) {
    uint8_t* output = ex_.output_block().data() + (b.index % 2) * block_ * out_size;
    auto merge_chunk = [&, output](size_t c) {
      std::vector<float*> deltas;
      const size_t n = std::min(kChunk, b.count - c * kChunk);
      float* base = load_chunk(b.slot + c * kChunk, n, deltas);
      const uint64_t first = b.first + c * kChunk;
      using Stage = Explanation::Stage;
      for (size_t k = 0; k < models_; ++k) {
        if (explain_) explain_->capture(Stage::Delta, k, first, deltas[k], n);
        apply_mask(k, deltas[k], n, first, ties_before_[k].empty() ? 0 : ties_before_[k][c]);
        if (state_[k].rescale != 1.0f) scale_into(deltas[k], deltas[k], state_[k].rescale, n);
        if (explain_) explain_->capture(Stage::Kept, k, first, deltas[k], n);
        scale_into(deltas[k], deltas[k], weights[k], n);  // ω_k = w_k · δ'_k
        if (explain_) explain_->capture(Stage::Weighted, k, first, deltas[k], n);
      }
      float* mixed = base + (models_ + 1) * kChunk;
      if (out_.consensus) {
        elect_and_merge(mixed, deltas.data(), weights.data(), models_, out_.normalize, n, mixed + kChunk);
      } else {
        std::copy(deltas[0], deltas[0] + n, mixed);
        for (size_t k = 1; k < models_; ++k) add_scaled(mixed, deltas[k], 1.0f, n);
        if (divisor != 1.0f) divide(mixed, divisor, n);
      }
      if (explain_) explain_->capture_mixed(first, mixed, n);
      float* result = mixed;
      if (out_.base) {
        add_lambda_times(deltas[0], base, mixed, out_.lambda, n);  // b + λ·mixed
        result = deltas[0];
      }
      if (explain_) explain_->capture_result(first, result, n);
      from_f32(out_.info.dtype, result, output + c * kChunk * out_size, n);
    };
    auto write_pending = [&] {
      if (pending) sink.write(pending, pending_bytes);
      pending = nullptr;
    };
    run_chunks(b, merge_chunk, [&] {
      read_next();
      write_pending();
    });
    pending = output;
    pending_bytes = b.count * out_size;
  });
  if (pending) sink.write(pending, pending_bytes);
}

TensorReport TensorPasses::analyze(const TensorExecutor::BlockDone& on_block) {
  select_cuts(on_block);
  for (auto& s : state_) s.ties_seen = 0;
  TensorReport report = chunk_report({0, 0, 0, 0}, 0);  // all counts zero
  report.tensor = out_.info.name;
  report.elements = total_;
  for (size_t k = 0; k < models_; ++k) {
    report.densities.push_back(out_.inputs[k].density);
    report.keep.push_back(magnitude_keep_count(out_.inputs[k].density, total_));
  }
  std::vector<TensorReport> parts;
  for_each_block(on_block, true, [&](const Block& b, const std::function<void()>& read_next) {
    const size_t chunks = chunks_in(b.count);
    parts.assign(chunks, TensorReport());
    auto report_chunk = [&](size_t c) { parts[c] = chunk_report(b, c); };
    run_chunks(b, report_chunk, read_next);
    for (const auto& part : parts) report.add(part);
  });
  return report;
}

// The counts of one chunk: |δ| by binade, zeros, sign conflicts, top-k intersections.
TensorReport TensorPasses::chunk_report(const Block& b, size_t c) {
  TensorReport r;
  r.abs_delta_hist.assign(models_, std::vector<uint64_t>(TensorReport::kBins, 0));
  r.zero.assign(models_, 0);
  r.topk_both.assign(models_, std::vector<uint64_t>(models_, 0));
  if (b.count == 0) return r;
  std::vector<float*> deltas;
  const size_t n = std::min(kChunk, b.count - c * kChunk);
  load_chunk(b.slot + c * kChunk, n, deltas);
  for (size_t k = 0; k < models_; ++k)
    for (size_t i = 0; i < n; ++i) {
      const uint32_t bits = magnitude_bits(deltas[k][i]);
      if (bits == 0) {
        ++r.zero[k];
        continue;
      }
      const int binade = static_cast<int>(bits >> 23) - 127;  // floor(log2 |δ|) for normal floats
      ++r.abs_delta_hist[k][std::clamp(binade - TensorReport::kMinLog2, 0, TensorReport::kBins - 1)];
    }
  for (size_t i = 0; i < n; ++i) {
    bool positive = false, negative = false;
    for (size_t k = 0; k < models_; ++k) {
      positive |= deltas[k][i] > 0.0f;
      negative |= deltas[k][i] < 0.0f;
    }
    r.sign_conflicts += positive && negative;
  }
  thread_local std::vector<float> kept;
  kept.resize(models_ * kChunk);
  for (size_t k = 0; k < models_; ++k) {
    std::copy(deltas[k], deltas[k] + n, kept.data() + k * kChunk);
    apply_mask(k, kept.data() + k * kChunk, n, b.first + c * kChunk, ties_before_[k].empty() ? 0 : ties_before_[k][c]);
  }
  for (size_t a = 0; a < models_; ++a)
    for (size_t bm = a; bm < models_; ++bm) {
      uint64_t both = 0;
      for (size_t i = 0; i < n; ++i) both += kept[a * kChunk + i] != 0.0f && kept[bm * kChunk + i] != 0.0f;
      r.topk_both[a][bm] = r.topk_both[bm][a] = both;
    }
  return r;
}

}  // namespace wasmerge
