#include "wasmerge/tensor_passes.hpp"

#include <algorithm>
#include <cmath>

#include "wasmerge/convert.hpp"
#include "wasmerge/kernels.hpp"

namespace wasmerge {
namespace {

constexpr size_t kChunk = TensorExecutor::kChunkElements;

size_t chunks_in(size_t count) { return (count + kChunk - 1) / kChunk; }

// Σ w_k, or 1 when normalizing is off or the sum vanishes (SPEC §2, no consensus).
float weight_divisor(const OutputTensor& out) {
  if (!out.normalize) return 1.0f;
  double sum = 0;
  for (const auto& in : out.inputs) sum += in.weight;
  return std::fabs(sum) < 1e-8 ? 1.0f : static_cast<float>(sum);
}

}  // namespace

TensorPasses::TensorPasses(TensorExecutor& executor, const OutputTensor& out)
    : ex_(executor), out_(out), models_(out.inputs.size()), total_(out.info.num_elements()), state_(models_) {
  if (out.base) sources_.push_back(out.base);
  for (const auto& in : out.inputs) sources_.push_back(in.tensor);
  size_t bytes_per_element = dtype_size(out.info.dtype);
  for (const auto* s : sources_) bytes_per_element += dtype_size(s->info.dtype);
  block_ = ex_.block_elements(bytes_per_element);
  cached_ = total_ <= block_;

  const size_t rows = static_cast<size_t>(std::min<uint64_t>(block_, total_));
  ex_.input_blocks().resize(sources_.size());
  for (size_t j = 0; j < sources_.size(); ++j) ex_.input_blocks()[j].resize(rows * dtype_size(sources_[j]->info.dtype));
  ex_.output_block().resize(rows * dtype_size(out.info.dtype));

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
}

void TensorPasses::run(ByteSink& sink, const TensorExecutor::BlockDone& on_block) {
  const bool select = out_.sparsify == Sparsify::Magnitude &&
                      std::any_of(state_.begin(), state_.end(), [](const ModelState& s) { return s.select.needs_passes(); });
  if (select) {
    histogram_pass(0, on_block);
    histogram_pass(1, on_block);
  }
  if (out_.rescale && !out_.rescale_inverse_density && out_.sparsify != Sparsify::None) l1_pass(on_block);
  write_pass(sink, on_block);
}

template <typename Visit>
void TensorPasses::for_each_block(const TensorExecutor::BlockDone& on_block, bool report_bytes, Visit visit) {
  for (uint64_t first = 0; first < total_; first += block_) {
    const size_t count = static_cast<size_t>(std::min<uint64_t>(block_, total_ - first));
    uint64_t bytes = 0;
    for (size_t j = 0; j < sources_.size(); ++j) {
      const ModelTensor& t = *sources_[j];
      const size_t size = dtype_size(t.info.dtype);
      if (!(cached_ && block_loaded_)) t.source->read(t.absolute_offset() + first * size, count * size, ex_.input_blocks()[j].data());
      bytes += count * size;
    }
    block_loaded_ = true;
    visit(first, count);
    on_block(report_bytes ? bytes : 0);
  }
}

float* TensorPasses::load_chunk(size_t offset, size_t count, std::vector<float*>& deltas) {
  thread_local std::vector<float> scratch;
  scratch.resize((models_ + 2) * kChunk);
  float* base = scratch.data();
  deltas.resize(models_);
  size_t j = 0;
  if (out_.base) {
    const DType t = out_.base->info.dtype;
    to_f32(t, ex_.input_blocks()[j++].data() + offset * dtype_size(t), base, count);
  }
  for (size_t k = 0; k < models_; ++k, ++j) {
    deltas[k] = base + (k + 1) * kChunk;
    const DType t = out_.inputs[k].tensor->info.dtype;
    to_f32(t, ex_.input_blocks()[j].data() + offset * dtype_size(t), deltas[k], count);
    if (out_.base) subtract(deltas[k], base, count);  // δ_k = m_k − b
  }
  return base;
}

void TensorPasses::apply_mask(size_t k, float* delta, size_t count, uint64_t first_index, uint64_t& equal_seen) const {
  const ModelState& s = state_[k];
  if (out_.sparsify == Sparsify::Random) {
    const uint64_t stream = out_.inputs[k].dare_stream;
    for (size_t i = 0; i < count; ++i)
      if (!dare_keep(stream, first_index + i, s.dare_threshold)) delta[i] = 0.0f;
  } else if (out_.sparsify == Sparsify::Magnitude && !s.cut.keep_all) {
    for (size_t i = 0; i < count; ++i)
      if (!magnitude_keep(s.cut, magnitude_bits(delta[i]), equal_seen)) delta[i] = 0.0f;
  }
}

// Histograms of |δ| per model: level 0 over the high 16 bits, level 1 over the low 16
// bits of the entries under the chosen prefix. One task per thread, each with its own
// counts over a run of chunks, summed afterwards (integer sums: any order is exact).
void TensorPasses::histogram_pass(int level, const TensorExecutor::BlockDone& on_block) {
  const size_t tasks = ex_.pool().size();
  std::vector<RadixSelect::Histogram> totals(models_, RadixSelect::Histogram(RadixSelect::kBins, 0));
  std::vector<std::vector<uint32_t>> local(tasks, std::vector<uint32_t>(models_ * RadixSelect::kBins));
  for_each_block(on_block, false, [&](uint64_t, size_t count) {
    const size_t chunks = chunks_in(count);
    ex_.pool().parallel_for(tasks, [&](size_t task) {
      std::vector<uint32_t>& hist = local[task];
      std::fill(hist.begin(), hist.end(), 0);
      std::vector<float*> deltas;
      for (size_t c = chunks * task / tasks; c < chunks * (task + 1) / tasks; ++c) {
        const size_t n = std::min(kChunk, count - c * kChunk);
        load_chunk(c * kChunk, n, deltas);
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
    for (const auto& hist : local)
      for (size_t k = 0; k < models_; ++k)
        for (size_t b = 0; b < RadixSelect::kBins; ++b) totals[k][b] += hist[k * RadixSelect::kBins + b];
  });
  for (size_t k = 0; k < models_; ++k) {
    ModelState& s = state_[k];
    if (!s.select.needs_passes()) continue;
    if (level == 0) s.select.finish_high_pass(totals[k]);
    else s.cut = s.select.finish_low_pass(totals[k]);
  }
}

void TensorPasses::count_ties(size_t block_first, size_t count) {
  (void)block_first;
  const size_t chunks = chunks_in(count);
  for (size_t k = 0; k < models_; ++k) ties_before_[k].assign(chunks, 0);
  if (std::none_of(state_.begin(), state_.end(), [](const ModelState& s) { return s.cut.partial_tie(); })) return;
  ex_.pool().parallel_for(chunks, [&](size_t c) {
    std::vector<float*> deltas;
    const size_t n = std::min(kChunk, count - c * kChunk);
    load_chunk(c * kChunk, n, deltas);
    for (size_t k = 0; k < models_; ++k) {
      if (!state_[k].cut.partial_tie()) continue;
      uint64_t ties = 0;
      for (size_t i = 0; i < n; ++i) ties += magnitude_bits(deltas[k][i]) == state_[k].cut.threshold;
      ties_before_[k][c] = ties;
    }
  });
  for (size_t k = 0; k < models_; ++k) {  // counts -> running prefix, across blocks too
    uint64_t running = state_[k].equal_seen;
    for (auto& t : ties_before_[k]) {
      const uint64_t here = t;
      t = running;
      running += here;
    }
    state_[k].equal_seen = running;
  }
}

// ‖δ‖₁ and ‖δ_kept‖₁ per model, as f64 partials per chunk summed in chunk order.
void TensorPasses::l1_pass(const TensorExecutor::BlockDone& on_block) {
  for (auto& s : state_) s.equal_seen = 0;
  std::vector<double> all, kept;
  for_each_block(on_block, false, [&](uint64_t first, size_t count) {
    const size_t chunks = chunks_in(count);
    count_ties(first, count);
    all.assign(chunks * models_, 0.0);
    kept.assign(chunks * models_, 0.0);
    ex_.pool().parallel_for(chunks, [&](size_t c) {
      std::vector<float*> deltas;
      const size_t n = std::min(kChunk, count - c * kChunk);
      load_chunk(c * kChunk, n, deltas);
      for (size_t k = 0; k < models_; ++k) {
        double sum = 0;
        for (size_t i = 0; i < n; ++i) sum += std::fabs(static_cast<double>(deltas[k][i]));
        uint64_t equal_seen = ties_before_[k][c];
        apply_mask(k, deltas[k], n, first + c * kChunk, equal_seen);
        double sum_kept = 0;
        for (size_t i = 0; i < n; ++i) sum_kept += std::fabs(static_cast<double>(deltas[k][i]));
        all[c * models_ + k] = sum;
        kept[c * models_ + k] = sum_kept;
      }
    });
    for (size_t c = 0; c < chunks; ++c)
      for (size_t k = 0; k < models_; ++k) {
        state_[k].l1_all += all[c * models_ + k];
        state_[k].l1_kept += kept[c * models_ + k];
      }
  });
  for (auto& s : state_)  // mergekit's L1 match, skipped when either norm vanishes
    s.rescale = (s.l1_all < 1e-7 || s.l1_kept < 1e-7) ? 1.0f : static_cast<float>(s.l1_all / s.l1_kept);
}

void TensorPasses::write_pass(ByteSink& sink, const TensorExecutor::BlockDone& on_block) {
  for (auto& s : state_) s.equal_seen = 0;
  const float divisor = weight_divisor(out_);
  std::vector<float> weights(models_);
  for (size_t k = 0; k < models_; ++k) weights[k] = out_.inputs[k].weight;
  const size_t out_size = dtype_size(out_.info.dtype);

  for_each_block(on_block, true, [&](uint64_t first, size_t count) {
    count_ties(first, count);
    ex_.pool().parallel_for(chunks_in(count), [&](size_t c) {
      std::vector<float*> deltas;
      const size_t n = std::min(kChunk, count - c * kChunk);
      float* base = load_chunk(c * kChunk, n, deltas);
      for (size_t k = 0; k < models_; ++k) {
        uint64_t equal_seen = ties_before_[k][c];
        apply_mask(k, deltas[k], n, first + c * kChunk, equal_seen);
        if (state_[k].rescale != 1.0f) scale_into(deltas[k], deltas[k], state_[k].rescale, n);
        scale_into(deltas[k], deltas[k], weights[k], n);  // ω_k = w_k · δ'_k
      }
      float* mixed = base + (models_ + 1) * kChunk;
      if (out_.consensus) {
        elect_and_merge(mixed, deltas.data(), weights.data(), models_, out_.normalize, n);
      } else {
        std::copy(deltas[0], deltas[0] + n, mixed);
        for (size_t k = 1; k < models_; ++k) add_scaled(mixed, deltas[k], 1.0f, n);
        if (divisor != 1.0f) divide(mixed, divisor, n);
      }
      float* result = mixed;
      if (out_.base) {
        add_lambda_times(deltas[0], base, mixed, out_.lambda, n);  // b + λ·mixed
        result = deltas[0];
      }
      from_f32(out_.info.dtype, result, ex_.output_block().data() + c * kChunk * out_size, n);
    });
    sink.write(ex_.output_block().data(), count * out_size);
  });
}

}  // namespace wasmerge
