// The decoder's forward pass against the independent f64 reference (tests/reference_decoder),
// for each architecture it runs, and its promises: the same bits for any thread count,
// budget and batching; one clear error per bad input. Also the reference's own MoE paths
// against its dense path, so the upcycling tests can lean on it.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>

#include "decoder/dot_kernels.hpp"
#include "decoder_models.hpp"
#include "reference_decoder.hpp"
#include "support.hpp"
#include "wasmerge/decoder.hpp"
#include "wasmerge/model.hpp"

using namespace wasmerge;
using test::files_of;
using test::kLlama;
using test::kLlamaBiasLinear;
using test::kMistral;
using test::kQwen2;
using test::kQwen3;
using test::random_decoder;
using test::random_sequences;
using test::require_close;
using test::TestModel;
using test::vocab_of;

namespace {

// The engine's logits for m, with `threads` threads and `budget` bytes.
std::vector<float> engine_logits(const TestModel& m, const std::vector<std::vector<int32_t>>& sequences,
                                 unsigned threads = 2, uint64_t budget = 64ull << 20) {
  test::MemoryInputs files = files_of(m);
  const Model model = open_model(files, "model.safetensors");
  ThreadPool pool(threads);
  Decoder decoder(model, read_decoder_shape(m.config, "config.json"), pool, budget);
  return decoder.logits(sequences);
}

struct Case {
  const char* name;
  const char* config;
};
const Case kCases[] = {{"llama GQA llama3 rope", kLlama},
                       {"llama attention_bias linear rope", kLlamaBiasLinear},
                       {"mistral sliding window", kMistral},
                       {"qwen2 biases, tied", kQwen2},
                       {"qwen3 head_dim != hidden/heads, q/k norms, tied", kQwen3}};

}  // namespace

TEST_CASE("decoder dot kernels equal their scalar twins bit for bit") {
  std::mt19937 rng(5);
  for (size_t n : {0, 1, 3, 4, 5, 8, 13, 64, 97, 896}) {
    std::vector<float> x(4 * n + 1), w(2 * n + 1);
    for (auto& v : x) v = (static_cast<int>(rng() % 2001) - 1000) / 997.0f;
    for (auto& v : w) v = (static_cast<int>(rng() % 2001) - 1000) / 991.0f;
    const float* xs[4] = {x.data(), x.data() + n, x.data() + 2 * n, x.data() + 3 * n};
    float a[8], b[8];
    decoder::dot_tile_4x2(xs, w.data(), w.data() + n, n, a);
    decoder::scalar::dot_tile_4x2(xs, w.data(), w.data() + n, n, b);
    REQUIRE(std::memcmp(a, b, sizeof a) == 0);
    const float d1 = decoder::dot(x.data() + 1, w.data() + 1, n),
                d2 = decoder::scalar::dot(x.data() + 1, w.data() + 1, n);
    REQUIRE(std::memcmp(&d1, &d2, 4) == 0);
    // and the tile is the single dot products
    for (int t = 0; t < 4; ++t) {
      const float s = decoder::scalar::dot(xs[t], w.data() + n, n);
      REQUIRE(std::memcmp(&s, &a[2 * t + 1], 4) == 0);
    }
  }
}

TEST_CASE("decoder logits match the f64 reference for llama, mistral, qwen2 and qwen3, F32 and BF16") {
  for (const Case& c : kCases)
    for (const char* dtype : {"F32", "BF16"}) {
      CAPTURE(c.name);
      CAPTURE(dtype);
      const TestModel m = random_decoder(c.config, dtype, 11);
      const auto sequences = random_sequences({9, 1, 4}, vocab_of(c.config), 3);
      require_close(engine_logits(m, sequences), test::reference_logits(m.config, m.tensors, sequences), 1e-4,
                    "logits");
    }
}

TEST_CASE("decoder hidden states at every layer's input match the reference; later layers are not read") {
  for (const Case& c : kCases) {
    CAPTURE(c.name);
    const TestModel m = random_decoder(c.config, "F32", 12);
    const auto sequences = random_sequences({7, 3}, vocab_of(c.config), 4);
    const auto expected = test::reference_hidden_states(m.config, m.tensors, sequences);
    test::MemoryInputs files = files_of(m);
    const Model model = open_model(files, "model.safetensors");
    ThreadPool pool(2);
    Decoder decoder(model, read_decoder_shape(m.config, "config.json"), pool, 1 << 20);
    std::vector<int> seen;
    decoder.hidden_states(sequences, decoder.shape().layers, [&](int layer, const float* states, size_t tokens) {
      seen.push_back(layer);
      REQUIRE(tokens == 10);
      require_close(std::vector<float>(states, states + tokens * decoder.shape().hidden), expected.at(layer), 1e-4,
                    "layer " + std::to_string(layer));
    });
    REQUIRE(seen.size() == size_t(decoder.shape().layers + 1));
    for (size_t l = 0; l < seen.size(); ++l) REQUIRE(seen[l] == int(l));

    // Stopping at layer 1: layer 1's weights are garbage in this copy and must not matter.
    TestModel broken = m;
    for (auto& entry : broken.tensors)
      if (entry.first.rfind("model.layers.1.", 0) == 0)
        for (auto& v : entry.second.values) v = std::nan("");
    test::MemoryInputs broken_files = files_of(broken);
    const Model broken_model = open_model(broken_files, "model.safetensors");
    Decoder early(broken_model, read_decoder_shape(m.config, "config.json"), pool, 1 << 20);
    seen.clear();
    early.hidden_states(sequences, 1, [&](int layer, const float* states, size_t tokens) {
      seen.push_back(layer);
      require_close(std::vector<float>(states, states + tokens * decoder.shape().hidden), expected.at(layer), 1e-4,
                    "layer " + std::to_string(layer));
    });
    REQUIRE(seen == std::vector<int>{0, 1});
  }
}

TEST_CASE("decoder: batched sequences, thread counts and budgets give the same bits") {
  for (const Case& c : kCases) {
    CAPTURE(c.name);
    const TestModel m = random_decoder(c.config, "BF16", 13);
    const int vocab = vocab_of(c.config);
    const auto sequences = random_sequences({6, 11, 1, 3}, vocab, 5);
    const std::vector<float> all = engine_logits(m, sequences, 1, 1ull << 30);
    // Threads and budgets: 1 byte reads one row per block.
    REQUIRE(engine_logits(m, sequences, 3, 1) == all);
    REQUIRE(engine_logits(m, sequences, 2, 5000) == all);
    REQUIRE(engine_logits(m, sequences, 3, 1ull << 30) == all);
    // One at a time: each token's row is its own sums.
    std::vector<float> one_by_one;
    for (const auto& seq : sequences) {
      const auto part = engine_logits(m, {seq}, 2);
      one_by_one.insert(one_by_one.end(), part.begin(), part.end());
    }
    REQUIRE(one_by_one == all);
  }
}

TEST_CASE("decoder logits are the same bits in every build (hash fixed from the native build)") {
  // A fixed model and text; the hash below was printed by the native build and the wasm
  // build must reproduce it.
  uint64_t hash = 1469598103934665603ull;
  for (const char* config : {kLlama, kQwen3}) {
    const TestModel m = random_decoder(config, "BF16", 99);
    const auto logits = engine_logits(m, random_sequences({12, 5}, vocab_of(config), 7), 3, 3000);
    const auto* bytes = reinterpret_cast<const uint8_t*>(logits.data());
    for (size_t i = 0; i < logits.size() * 4; ++i) hash = (hash ^ bytes[i]) * 1099511628211ull;
  }
  MESSAGE("decoder logits fnv1a64: " << hash);
  CHECK(hash == 5664255160831682721ull);
}

TEST_CASE("decoder errors name the file, the tensor and what is wrong") {
  auto message_of = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const MergeError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string gpt2 = R"({"model_type":"gpt2","num_hidden_layers":2})";
  REQUIRE(message_of([&] { read_decoder_shape(gpt2, "m/config.json"); }) ==
          "m/config.json: model_type 'gpt2' is not one the decoder runs (llama, mistral, qwen2, qwen3, mixtral, "
          "qwen2_moe, qwen3_moe)");
  const std::string no_hidden = R"({"model_type":"llama","num_hidden_layers":2})";
  REQUIRE(message_of([&] { read_decoder_shape(no_hidden, "config.json"); }).find("'hidden_size'") != std::string::npos);
  auto yarn = nlohmann::json::parse(kLlama);
  yarn["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  REQUIRE(message_of([&] { read_decoder_shape(yarn.dump(), "config.json"); }).find("'yarn'") != std::string::npos);

  const TestModel m = random_decoder(kQwen2, "F32", 14);
  ThreadPool pool(1);
  {
    test::MemoryInputs files = files_of(m, "model.layers.2.self_attn.k_proj.bias");
    const Model model = open_model(files, "model.safetensors");
    REQUIRE(message_of([&] { Decoder(model, read_decoder_shape(m.config, "config.json"), pool, 1 << 20); }) ==
            "model.safetensors: tensor 'model.layers.2.self_attn.k_proj.bias': is missing: the decoder reads it");
  }
  {
    auto wider = nlohmann::json::parse(kQwen2);
    wider["intermediate_size"] = 128;
    test::MemoryInputs files = files_of(m);
    const Model model = open_model(files, "model.safetensors");
    REQUIRE(message_of([&] { Decoder(model, read_decoder_shape(wider.dump(), "config.json"), pool, 1 << 20); }) ==
            "model.safetensors: tensor 'model.layers.0.mlp.gate_proj.weight': has shape [112, 64] where "
            "config.json's sizes make it [128, 64]");
  }
  {
    test::MemoryInputs files = files_of(m);
    const Model model = open_model(files, "model.safetensors");
    Decoder decoder(model, read_decoder_shape(m.config, "config.json"), pool, 1 << 20);
    REQUIRE(message_of([&] {
              decoder.logits({{1, 2}, {3, 45}});
            }) ==
            "model.safetensors: tensor 'model.embed_tokens.weight': token id 45 is outside the vocabulary of 45 rows");
    REQUIRE(message_of([&] { decoder.logits({{-1}}); }).find("token id -1") != std::string::npos);
  }
}

// The reference's MoE layers, with every expert equal to the dense MLP, compute the dense
// model: routing weights sum to 1 (Mixtral; Qwen3-MoE with norm_topk_prob), and Qwen2-MoE's
// shared expert adds its half (sigmoid(0)) of the rest.
TEST_CASE("decoder reference: MoE with every expert the dense MLP computes the dense model") {
  const int experts = 3;
  auto moe_of = [&](const TestModel& dense, const std::string& type, uint32_t seed) {
    auto config = nlohmann::json::parse(dense.config);
    config["model_type"] = type;
    config["num_experts_per_tok"] = 2;
    if (type == "mixtral")
      config["num_local_experts"] = experts;
    else
      config["num_experts"] = experts, config["norm_topk_prob"] = true;
    test::RefTensors t;
    std::mt19937 rng(seed);
    const uint64_t hidden = config["hidden_size"];
    for (const auto& entry : dense.tensors) {
      const std::string& name = entry.first;
      const auto mlp = name.find(".mlp.");
      if (mlp == std::string::npos) {
        t[name] = entry.second;
        continue;
      }
      const std::string layer = name.substr(0, mlp + 1), proj = name.substr(mlp + 5);  // "gate_proj.weight"
      for (int e = 0; e < experts; ++e) {
        const std::string es = std::to_string(e);
        if (type == "mixtral") {
          const std::string w = proj == "gate_proj.weight" ? "w1" : proj == "down_proj.weight" ? "w2" : "w3";
          t[layer + "block_sparse_moe.experts." + es + "." + w + ".weight"] = entry.second;
        } else {
          test::RefTensor routed = entry.second;
          if (type == "qwen2_moe" && proj == "down_proj.weight")
            for (auto& v : routed.values) v *= 0.5;
          t[layer + "mlp.experts." + es + "." + proj] = routed;
        }
      }
      if (type == "qwen2_moe") {
        test::RefTensor shared = entry.second;
        if (proj == "down_proj.weight") {
          t[layer + "mlp.shared_expert_gate.weight"] = test::RefTensor{{1, hidden}, std::vector<double>(hidden, 0.0)};
          // gate weights 0: sigmoid(0)·D joins the routed experts' D/2 to make D
        }
        t[layer + "mlp.shared_expert." + proj] = shared;
      }
      if (proj == "gate_proj.weight") {
        std::vector<double> router(experts * hidden);
        for (auto& v : router) v = (static_cast<int>(rng() % 2001) - 1000) / 1000.0;
        t[layer + (type == "mixtral" ? "block_sparse_moe.gate.weight" : "mlp.gate.weight")] =
            test::RefTensor{{uint64_t(experts), hidden}, router};
      }
    }
    return std::make_pair(config.dump(), t);
  };
  struct MoeCase {
    const char* dense;
    const char* type;
  };
  for (const MoeCase& c : {MoeCase{kLlama, "mixtral"}, MoeCase{kMistral, "mixtral"}, MoeCase{kQwen3, "qwen3_moe"},
                           MoeCase{kQwen2, "qwen2_moe"}}) {
    CAPTURE(c.type);
    const TestModel dense = random_decoder(c.dense, "F32", 15);
    const auto moe = moe_of(dense, c.type, 16);
    const auto sequences = random_sequences({5, 2}, vocab_of(c.dense), 6);
    const auto expected = test::reference_logits(dense.config, dense.tensors, sequences);
    require_close(test::reference_logits(moe.first, moe.second, sequences), expected, 1e-12, "MoE logits");
  }
}
