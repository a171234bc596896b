// extract_lora: plan from the headers (every error found before a byte is read), the SVD of
// each adapted tensor with its factors kept in memory, then the adapter file written in one
// go (header first) with modules_to_save tensors copied from the fine-tune, and committed.
#include "wasmerge/extract_lora.hpp"

#include <algorithm>
#include <cmath>
#include <regex>

#include "lora/adapter_config.hpp"
#include "lora/tensor_pair_delta.hpp"
#include "lora/truncated_svd.hpp"
#include "merge_progress.hpp"
#include "wasmerge/architecture.hpp"
#include "wasmerge/convert.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/model.hpp"
#include "wasmerge/safetensors.hpp"

namespace wasmerge {
namespace {

enum class Kind { Linear, Embedding, Save, Bias };

struct Item {
  const ModelTensor* base;
  const ModelTensor* tuned;
  Kind kind;
  std::string module;  // the name without its last part (".weight", ".bias")
};

struct OutTensor {
  TensorInfo info;
  std::vector<uint8_t> bytes;              // the factors, computed
  const ModelTensor* copy_from = nullptr;  // or a fine-tune tensor, copied when written
};

constexpr uint64_t kMaxBlockBytes = 16ull << 20;  // raw input bytes read at once

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
std::string without_last_part(const std::string& name) {
  const size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(0, dot);
}
std::string mb(uint64_t bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MB"; }

std::optional<std::regex> compile(const std::optional<std::string>& pattern, const char* field) {
  if (!pattern) return std::nullopt;
  try {
    return std::regex(*pattern, std::regex::ECMAScript);
  } catch (const std::regex_error&) {
    fail("job", "", std::string(field) + ": '" + *pattern + "' is not a regular expression");
  }
}

std::vector<Item> plan_items(const ExtractOptions& options, const Model& base, const Model& tuned) {
  const auto include = compile(options.include, "include"), exclude = compile(options.exclude, "exclude");
  std::vector<Item> items;
  for (const auto& t : tuned.tensors) {
    const std::string& name = t.info.name;
    if (!is_mergeable(t.info.dtype)) continue;  // integer buffers are not weights
    if (include && !std::regex_search(name, *include)) continue;
    if (exclude && std::regex_search(name, *exclude)) continue;
    const ModelTensor* b = base.find(name);
    if (!b) fail(t.source->name(), name, "not in the base model " + base.path);
    if (b->info.shape != t.info.shape)
      fail(t.source->name(), name,
           "shape " + shape_text(t.info.shape) + " differs from " + shape_text(b->info.shape) + " in " +
               b->source->name());
    if (!is_mergeable(b->info.dtype)) fail(b->source->name(), name, "not a float tensor in the base");
    Item item{b, &t, Kind::Save, without_last_part(name)};
    const bool weight = ends_with(name, ".weight");
    if (t.info.shape.size() == 2 && weight) {
      if (parse_layer_name(name))
        item.kind = Kind::Linear;
      else if (options.embed_lora && is_vocabulary_tensor(name))
        item.kind = is_pre_weight(name) ? Kind::Embedding : Kind::Linear;
    } else if (t.info.shape.size() == 1 && ends_with(name, ".bias")) {
      item.kind = Kind::Bias;  // the adapted module's lora_B.bias, or modules_to_save
    }
    if (item.kind == Kind::Linear || item.kind == Kind::Embedding) {
      const uint64_t shorter = std::min(t.info.shape[0], t.info.shape[1]);
      if (options.rank > shorter)
        fail(t.source->name(), name,
             "rank " + std::to_string(options.rank) + " is larger than the matrix's smaller dimension (" +
                 std::to_string(shorter) + " of " + shape_text(t.info.shape) + ")");
    }
    items.push_back(item);
  }
  return items;
}

// f64 values -> the output dtype's bytes, through f32.
std::vector<uint8_t> encode(const std::vector<double>& values, DType dtype) {
  std::vector<float> f(values.size());
  for (size_t i = 0; i < values.size(); ++i) f[i] = static_cast<float>(values[i]);
  std::vector<uint8_t> bytes(values.size() * dtype_size(dtype));
  from_f32(dtype, f.data(), bytes.data(), f.size());
  return bytes;
}

class Extraction {
 public:
  Extraction(const ExtractOptions& options, InputFiles& inputs, const ProgressFn& on_progress)
      : options_(options),
        base_(open_model(inputs, options.base)),
        tuned_(open_model(inputs, options.model)),
        items_(plan_items(options, base_, tuned_)),
        pool_(options.threads),
        budget_(options.memory_mb << 20),
        progress_(on_progress, input_bytes(), items_.size()) {}

  ExtractResult run(OutputFiles& outputs) {
    for (const auto& item : items_)
      if (item.kind == Kind::Linear || item.kind == Kind::Embedding) extract(item);
    for (const auto& item : items_)
      if (item.kind == Kind::Save || item.kind == Kind::Bias) compare(item);
    return write(outputs);
  }

 private:
  uint64_t input_bytes() const {
    uint64_t total = 0;
    for (const auto& item : items_) total += item.base->info.num_bytes() + item.tuned->info.num_bytes();
    return total;
  }
  DType out_dtype(const Item& item) const { return options_.dtype ? *options_.dtype : item.tuned->info.dtype; }

  void extract(const Item& item) {
    const std::string& name = item.tuned->info.name;
    progress_.start_tensor(name);
    const size_t m = item.tuned->info.shape[0], n = item.tuned->info.shape[1];
    SvdOptions svd;
    svd.rank = options_.rank;
    svd.method = options_.svd;
    svd.seed = options_.random_seed;
    svd.stream_name = name;
    SvdMethod method = choose_method(m, n, svd);
    const uint64_t row_bytes =
        n * (std::max(dtype_size(item.base->info.dtype), dtype_size(item.tuned->info.dtype)) + 2 * 4);
    const uint64_t factor_bytes = options_.rank * (m + n) * dtype_size(out_dtype(item));
    auto available = [&](SvdMethod mth) -> uint64_t {
      const uint64_t need = held_ + factor_bytes + svd_working_bytes(m, n, svd, mth);
      return budget_ > need ? budget_ - need : 0;
    };
    const uint64_t whole = uint64_t{4} * m * n;
    bool resident = available(method) >= whole + row_bytes;
    if (!resident && method == SvdMethod::Exact) {
      if (options_.svd == SvdMethod::Exact)
        fail(item.tuned->source->name(), name,
             "the exact SVD needs the " + mb(whole) + " difference in memory; raise memory_mb (" +
                 std::to_string(options_.memory_mb) + ") or use the randomized SVD");
      method = SvdMethod::Randomized;
    }
    svd.method = method;
    const uint64_t avail = available(method) - (resident ? whole : 0);
    if (avail < row_bytes)
      fail(item.tuned->source->name(), name,
           "memory_mb " + std::to_string(options_.memory_mb) + " is too small to extract this " + shape_text({m, n}) +
               " matrix at rank " + std::to_string(options_.rank) + " (it needs about " +
               mb(budget_ - avail + row_bytes) + ")");
    const size_t rows_per_block = static_cast<size_t>(std::max<uint64_t>(
        1, std::min<uint64_t>(avail / row_bytes, kMaxBlockBytes / std::max<uint64_t>(1, row_bytes))));
    TensorPairDelta pair(*item.base, *item.tuned, rows_per_block, progress_.on_block());
    LowRank low;
    if (resident) {
      auto on_block = progress_.on_block();
      MemoryDelta delta(m, n, pair.load(), [on_block] { on_block(0); });
      low = truncated_svd(delta, svd, pool_);
    } else {
      low = truncated_svd(pair, svd, pool_);
    }
    size_t keep = 0;
    while (keep < low.rank() && !(low.sigma[keep] < options_.sv_epsilon)) ++keep;
    if (keep == 0) return;  // δ = 0, or every singular value below sv_epsilon
    add_factors(item, low, keep);
  }

  void add_factors(const Item& item, const LowRank& low, size_t k) {
    const size_t m = item.tuned->info.shape[0], n = item.tuned->info.shape[1];
    const bool split = options_.distribute_scale;
    // Linear: A = f(S)Vᵀ [k, n], B = U g(S) [m, k]. Embedding (δᵀ's decomposition): A = f(S)Uᵀ [k, m],
    // B = V g(S) [n, k]. f = g = √ when the scale is distributed, else f = identity and g = 1.
    const bool embedding = item.kind == Kind::Embedding;
    const size_t a_len = embedding ? m : n, b_len = embedding ? n : m;
    const std::vector<double>& a_vec = embedding ? low.u : low.v;
    const std::vector<double>& b_vec = embedding ? low.v : low.u;
    std::vector<double> a(k * a_len), b(b_len * k);
    for (size_t i = 0; i < k; ++i) {
      const double root = std::sqrt(low.sigma[i]);
      const double fa = split ? root : low.sigma[i], fb = split ? root : 1.0;
      for (size_t j = 0; j < a_len; ++j) a[i * a_len + j] = fa * a_vec[i * a_len + j];
      for (size_t j = 0; j < b_len; ++j) b[j * k + i] = fb * b_vec[i * b_len + j];
    }
    const DType dtype = out_dtype(item);
    const std::string prefix = "base_model.model." + item.module;
    add(prefix + (embedding ? ".lora_embedding_A" : ".lora_A.weight"), dtype, {k, a_len}, encode(a, dtype));
    add(prefix + (embedding ? ".lora_embedding_B" : ".lora_B.weight"), dtype, {b_len, k}, encode(b, dtype));
    summary_.module_ranks[item.module] = k;
  }

  void add(const std::string& name, DType dtype, std::vector<uint64_t> shape, std::vector<uint8_t> bytes) {
    OutTensor out;
    out.info.name = name;
    out.info.dtype = dtype;
    out.info.shape = std::move(shape);
    held_ += bytes.size();
    if (held_ > budget_)
      fail("", "",
           "the adapter's factors (" + mb(held_) + " so far) do not fit memory_mb " +
               std::to_string(options_.memory_mb));
    out.bytes = std::move(bytes);
    outs_.push_back(std::move(out));
  }

  // modules_to_save and biases: left out when equal; an adapted module's bias becomes its lora_B.bias.
  void compare(const Item& item) {
    const std::string& name = item.tuned->info.name;
    progress_.start_tensor(name);
    const uint64_t count = item.tuned->info.num_elements();
    const bool as_bias = item.kind == Kind::Bias && summary_.module_ranks.count(item.module);
    const auto& shape = item.tuned->info.shape;
    const uint64_t row = shape.empty() || shape[0] == 0 ? 1 : count / shape[0];
    const uint64_t row_bytes = std::max<uint64_t>(
        1, row * (std::max(dtype_size(item.base->info.dtype), dtype_size(item.tuned->info.dtype)) + 8));
    TensorPairDelta pair(*item.base, *item.tuned, std::max<uint64_t>(1, kMaxBlockBytes / row_bytes),
                         progress_.on_block());
    std::vector<double> delta;
    pair.for_each_block([&](size_t, size_t n_rows, const float* block) {
      if (as_bias) delta.insert(delta.end(), block, block + n_rows * pair.cols());
    });
    if (pair.known_zero()) return;
    if (as_bias) {
      add("base_model.model." + item.module + ".lora_B.bias", out_dtype(item), item.tuned->info.shape,
          encode(delta, out_dtype(item)));
      summary_.lora_bias = true;
      return;
    }
    OutTensor out;
    out.info.name = "base_model.model." + item.tuned->info.name;
    out.info.dtype = out_dtype(item);
    out.info.shape = item.tuned->info.shape;
    out.copy_from = item.tuned;
    outs_.push_back(std::move(out));
    summary_.saved_modules.insert(item.module);
  }

  void copy(const ModelTensor& from, DType to, ByteSink& sink) {
    const size_t in_size = dtype_size(from.info.dtype), out_size = dtype_size(to);
    const uint64_t total = from.info.num_elements();
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(total, kMaxBlockBytes / 8));
    std::vector<uint8_t> raw(chunk * in_size), converted(to == from.info.dtype ? 0 : chunk * out_size);
    std::vector<float> f(to == from.info.dtype ? 0 : chunk);
    for (uint64_t first = 0; first < total; first += chunk) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk, total - first));
      from.source->read(from.absolute_offset() + first * in_size, n * in_size, raw.data());
      if (to == from.info.dtype) {
        sink.write(raw.data(), n * in_size);
      } else {
        to_f32(from.info.dtype, raw.data(), f.data(), n);
        from_f32(to, f.data(), converted.data(), n);
        sink.write(converted.data(), n * out_size);
      }
      progress_.on_block()(0);
    }
  }

  ExtractResult write(OutputFiles& outputs) {
    std::sort(outs_.begin(), outs_.end(),
              [](const OutTensor& x, const OutTensor& y) { return x.info.name < y.info.name; });
    std::vector<TensorInfo> infos;
    for (const auto& out : outs_) infos.push_back(out.info);
    const std::string header = serialize_safetensors_header(infos, {{"format", "pt"}});
    ExtractResult result;
    auto sink = outputs.create("adapter_model.safetensors");
    sink->write(reinterpret_cast<const uint8_t*>(header.data()), header.size());
    for (const auto& out : outs_) {
      if (out.copy_from)
        copy(*out.copy_from, out.info.dtype, *sink);
      else
        sink->write(out.bytes.data(), out.bytes.size());
      result.tensor_bytes += out.info.num_elements() * dtype_size(out.info.dtype);
    }
    sink.reset();
    summary_.base_model = options_.base;
    summary_.requested_rank = options_.rank;
    for (const auto& t : tuned_.tensors) summary_.model_modules.push_back(without_last_part(t.info.name));
    write_small_file(outputs, "adapter_config.json", adapter_config_json(summary_));
    result.files = {"adapter_model.safetensors", "adapter_config.json"};
    result.tensor_count = outs_.size();
    return result;
  }

  const ExtractOptions& options_;
  Model base_, tuned_;
  std::vector<Item> items_;
  ThreadPool pool_;
  uint64_t budget_, held_ = 0;
  MergeProgress progress_;
  std::vector<OutTensor> outs_;
  AdapterSummary summary_;
};

}  // namespace

ExtractResult extract_lora(const ExtractOptions& options, InputFiles& inputs, OutputFiles& outputs,
                           const ProgressFn& on_progress, const WarningFn&) {
  if (options.rank == 0) fail("job", "", "rank must be a positive integer");
  if (!(options.sv_epsilon >= 0)) fail("job", "", "sv_epsilon must be a non-negative number");
  Extraction extraction(options, inputs, on_progress);
  try {
    ExtractResult result = extraction.run(outputs);
    outputs.commit();
    return result;
  } catch (...) {
    outputs.discard();
    throw;
  }
}

}  // namespace wasmerge
