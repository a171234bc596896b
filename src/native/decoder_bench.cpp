// Times Decoder::logits on a synthetic model of the given shapes (default: Qwen2.5-0.5B's,
// vocab cut to 32000), BF16 weights generated on the fly from their byte offsets so no
// model file is needed. Usage: wasmerge-decoder-bench [tokens] [threads] [layers] [budget_mb]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "wasmerge/decoder.hpp"
#include "wasmerge/safetensors.hpp"

using namespace wasmerge;

namespace {

// A safetensors file whose header is real and whose data bytes are a hash of their offset:
// small BF16 values in ±[2^-7, 2^-4).
class SyntheticSource : public ByteSource {
 public:
  SyntheticSource(std::string header, uint64_t data_bytes)
      : header_(std::move(header)), size_(header_.size() + data_bytes) {}
  const std::string& name() const override { return name_; }
  uint64_t size() const override { return size_; }
  void read(uint64_t offset, size_t n, uint8_t* dst) override {
    for (size_t i = 0; i < n; ++i) {
      const uint64_t at = offset + i;
      if (at < header_.size()) {
        dst[i] = static_cast<uint8_t>(header_[at]);
        continue;
      }
      const uint64_t element = (at - header_.size()) / 2;
      uint64_t h = element * 0x9E3779B97F4A7C15ull;
      h ^= h >> 29;
      const uint16_t bits = static_cast<uint16_t>(((h >> 8) & 0x8000) | ((120 + (h >> 20) % 3) << 7) | (h & 0x7F));
      dst[i] = static_cast<uint8_t>((at - header_.size()) % 2 ? bits >> 8 : bits);
    }
  }

 private:
  std::string name_ = "synthetic.safetensors", header_;
  uint64_t size_;
};

class SyntheticInputs : public InputFiles {
 public:
  SyntheticInputs(std::string header, uint64_t data_bytes) : header_(std::move(header)), data_(data_bytes) {}
  std::optional<uint64_t> file_size(const std::string&) override { return header_.size() + data_; }
  std::unique_ptr<ByteSource> open(const std::string&) override {
    return std::make_unique<SyntheticSource>(header_, data_);
  }

 private:
  std::string header_;
  uint64_t data_;
};

}  // namespace

int main(int argc, char** argv) {
  const size_t tokens = argc > 1 ? std::atoi(argv[1]) : 128;
  const unsigned threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const int layers = argc > 3 ? std::atoi(argv[3]) : 24;
  const uint64_t budget = (argc > 4 ? std::atoll(argv[4]) : 256) << 20;
  char config[512];
  std::snprintf(config, sizeof config,
                R"({"model_type":"qwen2","num_hidden_layers":%d,"hidden_size":896,"intermediate_size":4864,)"
                R"("num_attention_heads":14,"num_key_value_heads":2,"vocab_size":32000,"rms_norm_eps":1e-6,)"
                R"("rope_theta":1000000.0,"tie_word_embeddings":true})",
                layers);
  const DecoderShape shape = read_decoder_shape(config, "config.json");
  std::vector<TensorInfo> infos;
  auto add = [&](const std::string& name, std::vector<uint64_t> dims) {
    TensorInfo t;
    t.name = name;
    t.dtype = DType::BF16;
    t.shape = dims;
    uint64_t n = 2;
    for (auto d : dims) n *= d;
    t.end = n;  // sizes; serialize lays them out
    infos.push_back(t);
  };
  const uint64_t h = 896, i = 4864, q = 896, kv = 128;
  add("model.embed_tokens.weight", {32000, h});
  for (int l = 0; l < layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "input_layernorm.weight", {h});
    add(p + "self_attn.q_proj.weight", {q, h});
    add(p + "self_attn.q_proj.bias", {q});
    add(p + "self_attn.k_proj.weight", {kv, h});
    add(p + "self_attn.k_proj.bias", {kv});
    add(p + "self_attn.v_proj.weight", {kv, h});
    add(p + "self_attn.v_proj.bias", {kv});
    add(p + "self_attn.o_proj.weight", {h, q});
    add(p + "post_attention_layernorm.weight", {h});
    add(p + "mlp.gate_proj.weight", {i, h});
    add(p + "mlp.up_proj.weight", {i, h});
    add(p + "mlp.down_proj.weight", {h, i});
  }
  add("model.norm.weight", {h});
  const std::string header = serialize_safetensors_header(infos, {});
  SyntheticInputs files(header, infos.back().end);
  const Model model = open_model(files, "synthetic.safetensors");
  ThreadPool pool(threads);
  Decoder decoder(model, shape, pool, budget);
  std::vector<int32_t> ids(tokens);
  for (size_t t = 0; t < tokens; ++t) ids[t] = static_cast<int32_t>((t * 7919) % 32000);
  const auto start = std::chrono::steady_clock::now();
  const std::vector<float> logits = decoder.logits({ids});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%zu tokens, %d layers, %u threads: %.2f s (%.1f tokens/s); logits[0] = %g\n", tokens, layers, threads,
              seconds, tokens / seconds, logits[0]);
}
