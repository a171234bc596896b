#include "decoder/attention.hpp"

#include <algorithm>
#include <cmath>

#include "decoder/dot_kernels.hpp"
#include "math/deterministic_math.hpp"

namespace wasmerge {
namespace decoder {
namespace {
constexpr double kPi = 3.14159265358979323846;
constexpr size_t kQueriesPerTask = 16;
}  // namespace

std::vector<double> rope_inverse_frequencies(const DecoderShape& s) {
  const size_t half = static_cast<size_t>(s.head_dim) / 2;
  std::vector<double> inv(half);
  const double log_theta = deterministic_log(s.rope_theta);
  for (size_t i = 0; i < half; ++i)
    inv[i] = 1.0 / deterministic_exp(log_theta * static_cast<double>(2 * i) / static_cast<double>(s.head_dim));
  if (s.rope_type == "linear") {
    for (double& f : inv) f /= s.rope_factor;
  } else if (s.rope_type == "llama3") {
    // Wavelengths longer than the original context are slowed by factor, shorter than
    // original/high_freq_factor kept, the band between interpolated.
    const double old_len = s.rope_original_max_positions;
    const double low_wavelen = old_len / s.rope_low_freq_factor, high_wavelen = old_len / s.rope_high_freq_factor;
    for (double& f : inv) {
      const double wavelen = 2 * kPi / f;
      const double scaled = wavelen > low_wavelen ? f / s.rope_factor : f;
      if (wavelen < high_wavelen || wavelen > low_wavelen) {
        f = scaled;
      } else {
        const double smooth =
            (old_len / wavelen - s.rope_low_freq_factor) / (s.rope_high_freq_factor - s.rope_low_freq_factor);
        f = (1 - smooth) * scaled / s.rope_factor + smooth * scaled;
      }
    }
  }
  return inv;
}

RopeTable::RopeTable(const DecoderShape& shape, size_t positions) : half_(static_cast<size_t>(shape.head_dim) / 2) {
  const std::vector<double> inv = rope_inverse_frequencies(shape);
  cos_.resize(positions * half_);
  sin_.resize(positions * half_);
  for (size_t p = 0; p < positions; ++p)
    for (size_t i = 0; i < half_; ++i) {
      const double angle = static_cast<double>(p) * inv[i];
      cos_[p * half_ + i] = static_cast<float>(deterministic_cos(angle));
      sin_[p * half_ + i] = static_cast<float>(deterministic_sin(angle));
    }
}

void RopeTable::apply(float* v, size_t position) const {
  // q·cos + rotate_half(q)·sin with rotate_half(q) = (−q_2, q_1): products, then the sum.
  const float* c = cos_.data() + position * half_;
  const float* s = sin_.data() + position * half_;
  for (size_t i = 0; i < half_; ++i) {
    const float x1 = v[i], x2 = v[i + half_];
    const float a = x1 * c[i], b = (-x2) * s[i], e = x2 * c[i], f = x1 * s[i];
    v[i] = a + b;
    v[i + half_] = e + f;
  }
}

void causal_attention(const DecoderShape& shape, const std::vector<SequenceSpan>& sequences, const float* q,
                      const float* k, const float* v, float* out, ThreadPool& pool) {
  struct Task {
    size_t first, q0, q1;  // the sequence's first row; queries [q0, q1) within it
    int head;
  };
  std::vector<Task> tasks;
  size_t longest = 0;
  for (const auto& seq : sequences) {
    longest = std::max(longest, seq.length);
    for (int h = 0; h < shape.heads; ++h)
      for (size_t q0 = 0; q0 < seq.length; q0 += kQueriesPerTask)
        tasks.push_back(Task{seq.first, q0, std::min(seq.length, q0 + kQueriesPerTask), h});
  }
  const size_t d = static_cast<size_t>(shape.head_dim);
  const size_t q_stride = static_cast<size_t>(shape.heads) * d, kv_stride = static_cast<size_t>(shape.kv_heads) * d;
  const int group = shape.heads / shape.kv_heads;
  // transformers multiplies the f32 scores by head_dim^-0.5, a Python float.
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
  const size_t window = static_cast<size_t>(shape.sliding_window);

  pool.parallel_for(tasks.size(), [&](size_t index) {
    const Task& task = tasks[index];
    const size_t g = static_cast<size_t>(task.head / group);
    std::vector<float> scores(longest);
    for (size_t i = task.q0; i < task.q1; ++i) {
      const float* qi = q + (task.first + i) * q_stride + static_cast<size_t>(task.head) * d;
      const size_t lo = window != 0 && i + 1 > window ? i + 1 - window : 0;
      float max = -INFINITY;
      for (size_t j = lo; j <= i; ++j) {
        scores[j] = dot(qi, k + (task.first + j) * kv_stride + g * d, d) * scale;
        max = std::max(max, scores[j]);
      }
      double sum = 0;
      for (size_t j = lo; j <= i; ++j) {
        scores[j] = static_cast<float>(deterministic_exp(static_cast<double>(scores[j]) - static_cast<double>(max)));
        sum += scores[j];
      }
      float* o = out + (task.first + i) * q_stride + static_cast<size_t>(task.head) * d;
      std::fill(o, o + d, 0.0f);
      for (size_t j = lo; j <= i; ++j) {
        const float p = static_cast<float>(static_cast<double>(scores[j]) / sum);
        const float* vj = v + (task.first + j) * kv_stride + g * d;
        for (size_t e = 0; e < d; ++e) {
          const float product = p * vj[e];
          o[e] = o[e] + product;
        }
      }
    }
  });
}

}  // namespace decoder
}  // namespace wasmerge
