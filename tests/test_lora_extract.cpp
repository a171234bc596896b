// extract_lora (SPEC §8): adapters of deltas whose singular values the test chose, checked by
// reconstruction in f64 (test-side code), not by bytes against another library; determinism
// across threads and budgets; the adapter's names, shapes and adapter_config.json against
// expectations written by hand; errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "support.hpp"
#include "wasmerge/job.hpp"
#include "wasmerge/merge.hpp"

using namespace wasmerge;
using json = nlohmann::json;

namespace {

using Matrix = std::vector<double>;  // row-major

// count orthonormal vectors of length len (Gaussian, modified Gram–Schmidt in f64).
std::vector<std::vector<double>> orthonormal(size_t len, size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<std::vector<double>> out;
  while (out.size() < count) {
    std::vector<double> x(len);
    for (auto& e : x) e = normal(rng);
    for (int pass = 0; pass < 2; ++pass)
      for (const auto& q : out) {
        double d = 0;
        for (size_t i = 0; i < len; ++i) d += q[i] * x[i];
        for (size_t i = 0; i < len; ++i) x[i] -= d * q[i];
      }
    double norm = 0;
    for (double e : x) norm += e * e;
    norm = std::sqrt(norm);
    for (auto& e : x) e /= norm;
    out.push_back(x);
  }
  return out;
}

// Σ_i σ_i u_i v_iᵀ with random orthonormal u (m) and v (n).
Matrix low_rank(size_t m, size_t n, const std::vector<double>& sigma, uint32_t seed) {
  const auto u = orthonormal(m, sigma.size(), seed), v = orthonormal(n, sigma.size(), seed + 1);
  Matrix d(m * n, 0.0);
  for (size_t k = 0; k < sigma.size(); ++k)
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < n; ++j) d[i * n + j] += sigma[k] * u[k][i] * v[k][j];
  return d;
}

std::vector<double> as_f32(const std::vector<double>& x) {
  std::vector<double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = static_cast<float>(x[i]);
  return out;
}

// A base and a fine-tune = base + δ, both F32; true_delta gets FT − base exactly (what the engine sees).
struct Pair {
  std::vector<test::Shape> shapes;
  std::map<std::string, std::vector<double>> base, tuned, delta;
  void add(const std::string& name, std::vector<uint64_t> dims, const std::vector<double>& d, uint32_t seed) {
    shapes.push_back({name, dims});
    const size_t n = shapes.back().n();
    base[name] = as_f32(test::random_values("F32", n, seed, 0.02));
    std::vector<double> t(n);
    for (size_t i = 0; i < n; ++i) t[i] = base[name][i] + d[i];
    tuned[name] = as_f32(t);
    for (size_t i = 0; i < n; ++i) t[i] = tuned[name][i] - base[name][i];
    delta[name] = t;
  }
  void files(test::MemoryInputs& in) const {
    in.add("base.safetensors", test::model_file(shapes, base, "F32"));
    in.add("ft.safetensors", test::model_file(shapes, tuned, "F32"));
  }
};

// The job's outputs go to a MemoryOutputs the test keeps after run_job drops its handle.
class ForwardOutputs : public OutputFiles {
 public:
  explicit ForwardOutputs(test::MemoryOutputs& to) : to_(to) {}
  std::unique_ptr<ByteSink> create(const std::string& name) override { return to_.create(name); }
  void commit() override { to_.commit(); }
  void discard() override { to_.discard(); }

 private:
  test::MemoryOutputs& to_;
};

struct Outcome {
  int status = -1;
  std::vector<json> events;
  test::MemoryOutputs* outputs = nullptr;
  std::unique_ptr<test::MemoryOutputs> owned;
  std::string error() const {
    if (status == 0) return "";
    for (const auto& e : events)
      if (e["event"] == "error") return e["message"];
    return "";
  }
  size_t count(const std::string& event) const {
    return std::count_if(events.begin(), events.end(), [&](const json& e) { return e["event"] == event; });
  }
  std::map<std::string, test::DecodedTensor> adapter() const {
    return test::decode_file(outputs->committed.at("adapter_model.safetensors"));
  }
  const test::Bytes& bytes() const { return outputs->committed.at("adapter_model.safetensors"); }
};

Outcome extract(test::MemoryInputs& in, json job, std::function<bool()> cancel = {}) {
  job["kind"] = "extract_lora";
  if (!job.contains("base")) job["base"] = "base.safetensors";
  if (!job.contains("model")) job["model"] = "ft.safetensors";
  job["out_dir"] = "out";
  Outcome o;
  o.owned = std::make_unique<test::MemoryOutputs>();
  o.outputs = o.owned.get();
  o.status = run_job(
      job.dump(), in, [&](const std::string&) { return std::unique_ptr<OutputFiles>(new ForwardOutputs(*o.outputs)); },
      [&](const std::string& e) { o.events.push_back(json::parse(e)); }, cancel);
  return o;
}

}  // namespace

namespace {

// B·A of an extracted linear module in f64 (s = lora_alpha/r = 1: alpha_pattern = rank_pattern).
Matrix product(const test::DecodedTensor& b, const test::DecodedTensor& a) {
  const size_t m = b.shape[0], r = b.shape[1], n = a.shape[1];
  REQUIRE(a.shape[0] == r);
  Matrix out(m * n, 0.0);
  for (size_t i = 0; i < m; ++i)
    for (size_t k = 0; k < r; ++k)
      for (size_t j = 0; j < n; ++j) out[i * n + j] += b.values[i * r + k] * a.values[k * n + j];
  return out;
}

double frobenius2(const Matrix& x) {
  double s = 0;
  for (double e : x) s += e * e;
  return s;
}

double error2(const Matrix& x, const Matrix& y) {
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i) s += (x[i] - y[i]) * (x[i] - y[i]);
  return s;
}

const char* kUp = "model.layers.0.mlp.up_proj.weight";
const std::string kUpA = "base_model.model.model.layers.0.mlp.up_proj.lora_A.weight";
const std::string kUpB = "base_model.model.model.layers.0.mlp.up_proj.lora_B.weight";

// One layer tensor of shape [m, n] with δ of the given singular values, extracted at rank.
Outcome extract_one(size_t m, size_t n, const std::vector<double>& sigma, size_t rank, const std::string& svd,
                    Matrix& delta) {
  Pair pair;
  pair.add(kUp, {m, n}, low_rank(m, n, sigma, 7), 3);
  delta = pair.delta[kUp];
  test::MemoryInputs in;
  pair.files(in);
  return extract(in, {{"rank", rank}, {"svd", svd}, {"threads", 2}});
}

}  // namespace

TEST_CASE("extract_lora: a delta of rank r comes back whole at rank >= r (exact and randomized)") {
  const std::vector<double> sigma = {3.0, 2.0, 1.5, 1.0, 0.5, 0.25};
  for (const std::string svd : {"exact", "randomized", "auto"}) {
    for (const auto& shape : std::vector<std::pair<size_t, size_t>>{{48, 40}, {40, 64}, {300, 200}}) {
      CAPTURE(svd);
      CAPTURE(shape.first);
      Matrix delta;
      const Outcome o = extract_one(shape.first, shape.second, sigma, 8, svd, delta);
      REQUIRE(o.error() == "");
      const auto adapter = o.adapter();
      const auto& a = adapter.at(kUpA);
      const auto& b = adapter.at(kUpB);
      CHECK(a.dtype == "F32");
      CHECK(a.shape == std::vector<uint64_t>{8, shape.second});
      CHECK(b.shape == std::vector<uint64_t>{shape.first, 8});
      CHECK(std::sqrt(error2(product(b, a), delta) / frobenius2(delta)) <= 1e-5);
    }
  }
}

TEST_CASE("extract_lora: at a lower rank k the error² is the discarded singular values' energy") {
  const std::vector<double> sigma = {10, 8, 6, 5, 4, 3, 2, 1};
  for (const std::string svd : {"exact", "randomized"}) {
    CAPTURE(svd);
    Matrix delta;
    const Outcome o = extract_one(120, 90, sigma, 4, svd, delta);
    REQUIRE(o.error() == "");
    const auto adapter = o.adapter();
    const double discarded = 16 + 9 + 4 + 1;
    CHECK(error2(product(adapter.at(kUpB), adapter.at(kUpA)), delta) == doctest::Approx(discarded).epsilon(0.01));
  }
  // A full spectrum, σ_i = 0.8^i: the randomized range finder with its power iterations
  // comes within 1% of the optimum too.
  std::vector<double> decaying;
  for (int i = 0; i < 90; ++i) decaying.push_back(std::pow(0.8, i));
  double discarded = 0;
  for (size_t i = 12; i < decaying.size(); ++i) discarded += decaying[i] * decaying[i];
  for (const std::string svd : {"exact", "randomized"}) {
    CAPTURE(svd);
    Matrix delta;
    const Outcome o = extract_one(400, 90, decaying, 12, svd, delta);
    REQUIRE(o.error() == "");
    const auto adapter = o.adapter();
    CHECK(error2(product(adapter.at(kUpB), adapter.at(kUpA)), delta) == doctest::Approx(discarded).epsilon(0.01));
  }
}

TEST_CASE("extract_lora: singular vectors' signs fixed, the scale split as √S on both sides or all in A") {
  Matrix delta;
  const Outcome o = extract_one(60, 50, {4.0, 1.0}, 2, "auto", delta);
  REQUIRE(o.error() == "");
  const auto adapter = o.adapter();
  const auto& b = adapter.at(kUpB);
  const auto& a = adapter.at(kUpA);
  for (size_t k = 0; k < 2; ++k) {
    double largest = 0, col2 = 0, row2 = 0;
    for (size_t i = 0; i < 60; ++i) {
      const double x = b.values[i * 2 + k];
      if (std::fabs(x) > std::fabs(largest)) largest = x;
      col2 += x * x;
    }
    for (size_t j = 0; j < 50; ++j) row2 += a.values[k * 50 + j] * a.values[k * 50 + j];
    CHECK(largest > 0);
    const double s = k == 0 ? 4.0 : 1.0;
    CHECK(col2 == doctest::Approx(s).epsilon(1e-5));  // ‖√σ u‖² = σ
    CHECK(row2 == doctest::Approx(s).epsilon(1e-5));
  }
  // distribute_scale false: B = U (unit columns), A = S·Vᵀ.
  Pair pair;
  pair.add(kUp, {60, 50}, low_rank(60, 50, {4.0, 1.0}, 7), 3);
  test::MemoryInputs in;
  pair.files(in);
  const Outcome unsplit = extract(in, {{"rank", 2}, {"distribute_scale", false}});
  REQUIRE(unsplit.error() == "");
  const auto ad = unsplit.adapter();
  for (size_t k = 0; k < 2; ++k) {
    double col2 = 0, row2 = 0;
    for (size_t i = 0; i < 60; ++i) col2 += ad.at(kUpB).values[i * 2 + k] * ad.at(kUpB).values[i * 2 + k];
    for (size_t j = 0; j < 50; ++j) row2 += ad.at(kUpA).values[k * 50 + j] * ad.at(kUpA).values[k * 50 + j];
    CHECK(col2 == doctest::Approx(1.0).epsilon(1e-5));
    CHECK(row2 == doctest::Approx(k == 0 ? 16.0 : 1.0).epsilon(1e-5));
  }
  CHECK(std::sqrt(error2(product(ad.at(kUpB), ad.at(kUpA)), pair.delta[kUp]) / frobenius2(pair.delta[kUp])) <= 1e-5);
}

TEST_CASE("extract_lora: the same bytes for 1 and 3 threads and for a budget that streams δ in blocks") {
  Pair pair;
  pair.add(kUp, {2000, 600}, low_rank(2000, 600, {5, 4, 3, 2, 1, 0.5}, 11), 5);
  pair.add("model.layers.0.self_attn.k_proj.weight", {64, 600}, low_rank(64, 600, {2, 1}, 12), 6);
  test::MemoryInputs in;
  pair.files(in);
  const Outcome one = extract(in, {{"rank", 8}, {"threads", 1}, {"memory_mb", 64}});
  const Outcome three = extract(in, {{"rank", 8}, {"threads", 3}, {"memory_mb", 64}});
  const Outcome streamed = extract(in, {{"rank", 8}, {"threads", 3}, {"memory_mb", 1}});
  REQUIRE(one.error() == "");
  REQUIRE(three.error() == "");
  REQUIRE(streamed.error() == "");
  CHECK(one.bytes() == three.bytes());
  CHECK(one.bytes() == streamed.bytes());
  // The small budget read δ in blocks, pass after pass: many more progress events.
  CHECK(streamed.count("progress") > 4 * one.count("progress"));
  const auto adapter = one.adapter();
  const Matrix& d = pair.delta[kUp];
  CHECK(std::sqrt(error2(product(adapter.at(kUpB), adapter.at(kUpA)), d) / frobenius2(d)) <= 1e-5);
}

TEST_CASE("extract_lora: names, shapes, modules_to_save, rank_pattern and adapter_config.json") {
  Pair pair;
  const std::string q0 = "model.layers.0.self_attn.q_proj", q1 = "model.layers.1.self_attn.q_proj";
  const std::string k0 = "model.layers.0.self_attn.k_proj", k1 = "model.layers.1.self_attn.k_proj";
  const std::vector<double> zero12(12, 0.0), zero96(96, 0.0), zero240(20 * 12, 0.0);
  std::vector<double> norm_delta(12, 0.0), bias_delta(16, 0.0), embed_delta = low_rank(20, 12, {3.0, 0.5}, 21);
  norm_delta[3] = 0.5;
  bias_delta[0] = 0.25;
  pair.add("model.embed_tokens.weight", {20, 12}, embed_delta, 30);
  pair.add(q0 + ".weight", {16, 12}, low_rank(16, 12, {5, 3, 1}, 22), 31);
  pair.add(q0 + ".bias", {16}, bias_delta, 32);
  pair.add(k0 + ".weight", {8, 12}, zero96, 33);
  pair.add("model.layers.0.input_layernorm.weight", {12}, norm_delta, 34);
  pair.add(q1 + ".weight", {16, 12}, low_rank(16, 12, {2}, 23), 35);
  pair.add(k1 + ".weight", {8, 12}, low_rank(8, 12, {1, 0.75}, 24), 36);
  pair.add("model.layers.1.input_layernorm.weight", {12}, zero12, 37);
  pair.add("lm_head.weight", {20, 12}, zero240, 38);
  test::MemoryInputs in;
  pair.files(in);
  const Outcome o = extract(in, {{"rank", 2}, {"sv_epsilon", 0.5}});
  REQUIRE(o.error() == "");
  const auto adapter = o.adapter();
  std::map<std::string, std::vector<uint64_t>> shapes;
  for (const auto& t : adapter) shapes[t.first] = t.second.shape;
  const std::map<std::string, std::vector<uint64_t>> expected = {
      {"base_model.model.model.embed_tokens.weight", {20, 12}},
      {"base_model.model.model.layers.0.input_layernorm.weight", {12}},
      {"base_model.model." + q0 + ".lora_A.weight", {2, 12}},
      {"base_model.model." + q0 + ".lora_B.weight", {16, 2}},
      {"base_model.model." + q0 + ".lora_B.bias", {16}},
      {"base_model.model." + q1 + ".lora_A.weight", {1, 12}},
      {"base_model.model." + q1 + ".lora_B.weight", {16, 1}},
      {"base_model.model." + k1 + ".lora_A.weight", {2, 12}},
      {"base_model.model." + k1 + ".lora_B.weight", {8, 2}},
  };
  CHECK(shapes == expected);
  CHECK(adapter.at("base_model.model.model.embed_tokens.weight").values == pair.tuned["model.embed_tokens.weight"]);
  CHECK(adapter.at("base_model.model." + q0 + ".lora_B.bias").values == pair.delta[q0 + ".bias"]);
  const json config = json::parse(o.outputs->text("adapter_config.json"));
  const json expected_config = json::parse(R"({
    "peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": "base.safetensors",
    "r": 2, "lora_alpha": 2,
    "target_modules": ["model.layers.1.self_attn.k_proj", "q_proj"],
    "rank_pattern": {"model.layers.1.self_attn.q_proj": 1},
    "alpha_pattern": {"model.layers.1.self_attn.q_proj": 1},
    "modules_to_save": ["embed_tokens", "model.layers.0.input_layernorm"],
    "lora_dropout": 0.0, "bias": "none", "lora_bias": true, "fan_in_fan_out": false,
    "use_rslora": false, "use_dora": false, "init_lora_weights": true, "inference_mode": true})");
  CHECK(config == expected_config);
  CHECK(o.events.back()["event"] == "done");
  CHECK(o.events.back()["tensor_count"] == 9);
  CHECK(o.count("progress") >= 9);

  SUBCASE("embed_lora: the embedding's δ as lora_embedding_A [r, vocab], lora_embedding_B [dim, r]") {
    const Outcome e = extract(in, {{"rank", 2}, {"embed_lora", true}, {"include", "embed"}});
    REQUIRE(e.error() == "");
    const auto ad = e.adapter();
    REQUIRE(ad.size() == 2);
    const auto& a = ad.at("base_model.model.model.embed_tokens.lora_embedding_A");
    const auto& b = ad.at("base_model.model.model.embed_tokens.lora_embedding_B");
    CHECK(a.shape == std::vector<uint64_t>{2, 20});
    CHECK(b.shape == std::vector<uint64_t>{12, 2});
    const Matrix ba = product(b, a);  // [12, 20]: W' = W + (B·A)ᵀ
    Matrix t(20 * 12);
    for (size_t i = 0; i < 20; ++i)
      for (size_t j = 0; j < 12; ++j) t[i * 12 + j] = ba[j * 20 + i];
    const Matrix& d = pair.delta["model.embed_tokens.weight"];
    CHECK(std::sqrt(error2(t, d) / frobenius2(d)) <= 1e-5);
    const json c = json::parse(e.outputs->text("adapter_config.json"));
    CHECK(c["target_modules"] == json::array({"embed_tokens"}));
    CHECK(c["modules_to_save"].is_null());
  }
  SUBCASE("exclude, and the factors in another dtype") {
    const Outcome e = extract(in, {{"rank", 2}, {"exclude", "layers\\.1\\.|embed|norm|bias"}, {"dtype", "bfloat16"}});
    REQUIRE(e.error() == "");
    const auto ad = e.adapter();
    CHECK(ad.size() == 2);
    CHECK(ad.at("base_model.model." + q0 + ".lora_A.weight").dtype == "BF16");
  }
}

TEST_CASE("extract_lora: errors name the tensor and the files, and nothing is written") {
  Pair pair;
  pair.add(kUp, {16, 12}, low_rank(16, 12, {1}, 3), 4);
  test::MemoryInputs in;
  pair.files(in);
  const Outcome big = extract(in, {{"rank", 13}});
  CHECK(big.status == 1);
  CHECK(big.error() == std::string("ft.safetensors: tensor '") + kUp +
                           "': rank 13 is larger than the matrix's smaller dimension (12 of [16, 12])");
  CHECK(big.outputs->committed.empty());

  Pair other;
  other.add(kUp, {16, 10}, low_rank(16, 10, {1}, 3), 4);
  test::MemoryInputs mismatched;
  mismatched.add("base.safetensors", test::model_file(other.shapes, other.base, "F32"));
  mismatched.add("ft.safetensors", test::model_file(pair.shapes, pair.tuned, "F32"));
  const Outcome shapes = extract(mismatched, {{"rank", 2}});
  CHECK(shapes.error() ==
        std::string("ft.safetensors: tensor '") + kUp + "': shape [16, 12] differs from [16, 10] in base.safetensors");
  CHECK(shapes.outputs->committed.empty());

  CHECK(extract(in, {{"rank", 0}}).error() == "job: extract_lora needs \"rank\", a positive integer");
  CHECK(extract(in, {{"rank", 2}, {"base", "missing"}}).status == 1);
  CHECK(extract(in, {{"rank", 2}, {"include", "("}}).error() == "job: include: '(' is not a regular expression");
  CHECK(extract(in, {{"rank", 2}, {"svd", "qr"}}).error() == "job: svd: 'qr' (auto, exact or randomized)");

  const Outcome cancelled = extract(in, {{"rank", 2}}, [] { return true; });
  CHECK(cancelled.status == 130);
  CHECK(cancelled.outputs->committed.empty());

  std::vector<double> nan(16 * 12, 0.0);
  nan[5] = NAN;
  Pair bad;
  bad.add(kUp, {16, 12}, nan, 4);
  test::MemoryInputs bad_in;
  bad.files(bad_in);
  const Outcome nonfinite = extract(bad_in, {{"rank", 2}});
  CHECK(nonfinite.status == 1);
  CHECK(nonfinite.error().find("non-finite") != std::string::npos);
}

TEST_CASE("extract_lora then base+adapter through the merge gives back the fine-tune (within the discarded energy)") {
  Pair p;
  p.add("model.layers.0.self_attn.q_proj.weight", {16, 16}, low_rank(16, 16, {3.0, 2.0, 1.0, 0.5, 0.25}, 71), 72);
  p.add("model.layers.0.mlp.up_proj.weight", {24, 16}, low_rank(24, 16, {2.0, 1.5, 0.75}, 73), 74);
  std::vector<double> norm_delta(16, 0.125);
  p.add("model.layers.0.input_layernorm.weight", {16}, norm_delta, 75);
  for (const size_t rank : {5u, 2u}) {
    CAPTURE(rank);
    test::MemoryInputs in;
    p.files(in);
    const Outcome o = extract(in, {{"rank", rank}, {"random_seed", 3}});
    REQUIRE(o.status == 0);
    in.add("lora/adapter_model.safetensors", o.outputs->committed.at("adapter_model.safetensors"));
    in.add("lora/adapter_config.json", o.outputs->committed.at("adapter_config.json"));
    const json merge = {{"merge_method", "passthrough"}, {"models", {{{"model", "base.safetensors+lora"}}}}};
    test::MemoryOutputs out;
    run_merge(merge.dump(), {}, in, out);
    const auto merged = test::decode_file(out.committed.at("model.safetensors"));
    // The discarded singular values' energy of each matrix at this rank (none at rank 5).
    const std::map<std::string, double> discarded = {
        {"model.layers.0.self_attn.q_proj.weight", rank == 5 ? 0.0 : 1.0 + 0.25 + 0.0625},
        {"model.layers.0.mlp.up_proj.weight", rank == 5 ? 0.0 : 0.5625}};
    for (const auto& d : discarded) {
      CAPTURE(d.first);
      const double err = error2(merged.at(d.first).values, p.tuned.at(d.first));
      if (d.second == 0)
        CHECK(std::sqrt(err / frobenius2(p.delta.at(d.first))) <= 1e-5);
      else
        CHECK(std::abs(err - d.second) <= 0.01 * d.second);
    }
    CHECK(merged.at("model.layers.0.input_layernorm.weight").values ==
          p.tuned.at("model.layers.0.input_layernorm.weight"));
  }
}
