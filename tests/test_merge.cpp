// Whole merges in memory, checked against an f64 reference written here from SPEC §2:
//   linear:           Σ w_k m_k / Σ w_k       (no division without normalize)
//   task_arithmetic:  b + λ · Σ w_k (m_k − b) / (normalize ? Σ w_k : 1)
#include <doctest/doctest.h>

#include <functional>

#include "support.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/merge.hpp"

using namespace wasmerge;
using test::Bytes;
using test::Shape;

namespace {

const std::vector<Shape> kShapes = {{"model.embed_tokens.weight", {11, 8}},
                                    {"model.layers.0.mlp.up_proj.weight", {8, 5}},
                                    {"model.layers.0.self_attn.q_proj.weight", {8, 8}},
                                    {"model.layers.1.mlp.up_proj.weight", {8, 5}},
                                    {"model.layers.1.self_attn.q_proj.weight", {8, 8}},
                                    {"model.layers.2.mlp.up_proj.weight", {8, 5}},
                                    {"model.layers.2.self_attn.q_proj.weight", {8, 8}},
                                    {"model.norm.weight", {8}},
                                    {"lm_head.weight", {11, 8}}};

using Values = std::map<std::string, std::vector<double>>;

// A model of kShapes with random values in dtype; fine-tunes are the base plus a delta.
Values make_values(const std::string& dtype, uint32_t seed, const Values* base = nullptr) {
  Values v;
  for (size_t i = 0; i < kShapes.size(); ++i) {
    const auto& s = kShapes[i];
    if (!base) {
      v[s.name] = test::random_values(dtype, s.n(), seed * 100 + static_cast<uint32_t>(i));
    } else {  // base + small delta, rounded to the dtype grid by random_values' construction
      auto delta = test::random_values("F32", s.n(), seed * 100 + static_cast<uint32_t>(i), 0.05);
      std::vector<double> x(s.n());
      for (size_t j = 0; j < s.n(); ++j) x[j] = base->at(s.name)[j] + delta[j];
      // re-round to the dtype grid
      for (auto& e : x) {
        int ex;
        const double f = std::frexp(e, &ex);
        const int bits = dtype == "BF16" ? 8 : dtype == "F16" ? 11 : 24;
        e = std::ldexp(std::round(std::ldexp(f, bits)), ex - bits);
      }
      v[s.name] = x;
    }
  }
  return v;
}

Bytes file_of(const Values& v, const std::string& dtype) { return test::model_file(kShapes, v, dtype); }

struct Run {
  test::MemoryOutputs out;
  std::vector<std::string> warnings;
};

Run merge(test::MemoryInputs& files, const std::string& config, MergeOptions options = {}) {
  Run run;
  options.threads = options.threads ? options.threads : 2;
  run_merge(config, options, files, run.out, {}, [&](const std::string& w) { run.warnings.push_back(w); });
  return run;
}

// Compares every tensor of the output with expected(name, index), within the tolerance
// of the output dtype; input_scale(name, index) bounds the f32 rounding of the inputs.
void check_output(const Bytes& file, const std::string& dtype,
                  const std::function<double(const std::string&, size_t)>& expected,
                  const std::function<double(const std::string&, size_t)>& input_scale) {
  const auto decoded = test::decode_file(file);
  REQUIRE(decoded.size() == kShapes.size());
  for (const auto& s : kShapes) {
    const auto& t = decoded.at(s.name);
    REQUIRE(t.dtype == dtype);
    REQUIRE(t.shape == s.dims);
    for (size_t i = 0; i < s.n(); ++i) {
      const double ref = expected(s.name, i);
      const double got = t.values[i];
      INFO(s.name << "[" << i << "] got " << got << " expected " << ref);
      REQUIRE(std::fabs(got - ref) <= test::tolerance(dtype, ref, input_scale(s.name, i)));
    }
  }
}

double t_of(const std::string& name) {  // 3 layers: t = i/2
  for (int i = 0; i < 3; ++i)
    if (name.find("layers." + std::to_string(i) + ".") != std::string::npos) return i / 2.0;
  return 0.0;
}

}  // namespace

TEST_CASE("linear merge of three models matches the f64 reference, for F32, F16 and BF16") {
  for (const std::string dtype : {"F32", "F16", "BF16"}) {
    INFO("dtype " << dtype);
    const Values a = make_values(dtype, 1), b = make_values(dtype, 2), c = make_values(dtype, 3);
    test::MemoryInputs files;
    files.add("a.safetensors", file_of(a, dtype));
    files.add("b.safetensors", file_of(b, dtype));
    files.add("c.safetensors", file_of(c, dtype));
    const auto run = merge(files, R"({"merge_method":"linear","models":[
        {"model":"a.safetensors","parameters":{"weight":1.0}},
        {"model":"b.safetensors","parameters":{"weight":0.5}},
        {"model":"c.safetensors","parameters":{"weight":2.5}}]})");
    check_output(
        run.out.committed.at("model.safetensors"), dtype,
        [&](const std::string& n, size_t i) { return (1.0 * a.at(n)[i] + 0.5 * b.at(n)[i] + 2.5 * c.at(n)[i]) / 4.0; },
        [&](const std::string& n, size_t i) {
          return std::fabs(a.at(n)[i]) + std::fabs(b.at(n)[i]) + 2.5 * std::fabs(c.at(n)[i]);
        });
  }
}

TEST_CASE("linear without normalize is the weighted sum") {
  const Values a = make_values("F32", 4), b = make_values("F32", 5);
  test::MemoryInputs files;
  files.add("a.safetensors", file_of(a, "F32"));
  files.add("b.safetensors", file_of(b, "F32"));
  const auto run = merge(files, R"({"merge_method":"linear","parameters":{"normalize":false},"models":[
      {"model":"a.safetensors","parameters":{"weight":0.3}},{"model":"b.safetensors","parameters":{"weight":0.3}}]})");
  check_output(
      run.out.committed.at("model.safetensors"), "F32",
      [&](const std::string& n, size_t i) { return 0.3 * a.at(n)[i] + 0.3 * b.at(n)[i]; },
      [&](const std::string& n, size_t i) { return std::fabs(a.at(n)[i]) + std::fabs(b.at(n)[i]); });
}

TEST_CASE("task arithmetic with λ, negative weights and per-layer gradients, for F32, F16 and BF16") {
  for (const std::string dtype : {"F32", "F16", "BF16"}) {
    INFO("dtype " << dtype);
    const Values base = make_values(dtype, 10);
    const Values a = make_values(dtype, 11, &base), b = make_values(dtype, 12, &base);
    test::MemoryInputs files;
    files.add("base.safetensors", file_of(base, dtype));
    files.add("a.safetensors", file_of(a, dtype));
    files.add("b.safetensors", file_of(b, dtype));
    const auto run = merge(files, R"({"merge_method":"task_arithmetic","base_model":"base.safetensors",
        "parameters":{"lambda":0.7},"models":[
        {"model":"a.safetensors","parameters":{"weight":[1.0, 0.0]}},
        {"model":"b.safetensors","parameters":{"weight":-0.4}}]})");
    check_output(
        run.out.committed.at("model.safetensors"), dtype,
        [&](const std::string& n, size_t i) {
          const double wa = 1.0 - t_of(n), wb = -0.4;
          const double bi = base.at(n)[i];
          return bi + 0.7 * (wa * (a.at(n)[i] - bi) + wb * (b.at(n)[i] - bi));
        },
        [&](const std::string& n, size_t i) { return 4 * (std::fabs(a.at(n)[i]) + std::fabs(b.at(n)[i])); });
  }
}

TEST_CASE("task arithmetic with normalize divides by Σw; filters pick weights per tensor") {
  const Values base = make_values("F32", 20);
  const Values a = make_values("F32", 21, &base), b = make_values("F32", 22, &base);
  test::MemoryInputs files;
  files.add("base.safetensors", file_of(base, "F32"));
  files.add("a.safetensors", file_of(a, "F32"));
  files.add("b.safetensors", file_of(b, "F32"));
  const auto run = merge(files, R"({"merge_method":"task_arithmetic","base_model":"base.safetensors",
      "parameters":{"normalize":true},"models":[
      {"model":"a.safetensors","parameters":{"weight":[{"filter":"mlp","value":3.0},{"value":1.0}]}},
      {"model":"b.safetensors","parameters":{"weight":1.0}}]})");
  check_output(
      run.out.committed.at("model.safetensors"), "F32",
      [&](const std::string& n, size_t i) {
        const double wa = n.find("mlp") != std::string::npos ? 3.0 : 1.0;
        const double bi = base.at(n)[i];
        return bi + (wa * (a.at(n)[i] - bi) + (b.at(n)[i] - bi)) / (wa + 1.0);
      },
      [&](const std::string& n, size_t i) { return 8 * (std::fabs(a.at(n)[i]) + std::fabs(b.at(n)[i])); });
}

TEST_CASE("mixed input dtypes merge in f32 and convert to out_dtype") {
  const Values base = make_values("BF16", 30);
  const Values a = make_values("BF16", 31, &base), b = make_values("BF16", 32, &base);
  test::MemoryInputs files;
  files.add("base.safetensors", file_of(base, "BF16"));
  files.add("a.safetensors", file_of(a, "F32"));  // the same grid stored as F32
  files.add("b.safetensors", file_of(b, "F64"));  // and as F64
  const auto run = merge(files, R"({"merge_method":"task_arithmetic","base_model":"base.safetensors",
      "out_dtype":"float16","models":[
      {"model":"a.safetensors","parameters":{"weight":0.5}},{"model":"b.safetensors","parameters":{"weight":0.5}}]})");
  check_output(
      run.out.committed.at("model.safetensors"), "F16",
      [&](const std::string& n, size_t i) {
        const double bi = base.at(n)[i];
        return bi + 0.5 * (a.at(n)[i] - bi) + 0.5 * (b.at(n)[i] - bi);
      },
      [&](const std::string& n, size_t i) { return 4 * (std::fabs(a.at(n)[i]) + std::fabs(b.at(n)[i])); });
}

TEST_CASE("same bytes for 1 and 3 threads and for three memory budgets (tensor larger than the budget)") {
  // One 600k-element tensor: 2.4 MB per f32 input, larger than a 1 MB budget.
  const size_t n = 600000;
  auto tensor = [&](uint32_t seed) { return test::random_values("F32", n, seed); };
  test::MemoryInputs files;
  const auto base = tensor(1), a = tensor(2), b = tensor(3);
  files.add("base.safetensors", test::safetensors_file({{"w", "F32", {n}, test::encode("F32", base)}}));
  files.add("a.safetensors", test::safetensors_file({{"w", "F32", {n}, test::encode("F32", a)}}));
  files.add("b.safetensors", test::safetensors_file({{"w", "F32", {n}, test::encode("F32", b)}}));
  const std::string config = R"({"merge_method":"task_arithmetic","base_model":"base.safetensors","out_dtype":"bfloat16",
      "parameters":{"lambda":1.3},"models":[{"model":"a.safetensors","parameters":{"weight":0.25}},
      {"model":"b.safetensors","parameters":{"weight":0.75}}]})";
  std::vector<Bytes> outputs;
  for (unsigned threads : {1u, 3u})
    for (uint64_t mb : {1u, 4u, 1024u}) {
      MergeOptions o;
      o.threads = threads;
      o.memory_mb = mb;
      outputs.push_back(merge(files, config, o).out.committed.at("model.safetensors"));
    }
  for (const auto& o : outputs) REQUIRE(o == outputs[0]);
  const auto got = test::decode_file(outputs[0]).at("w").values;
  for (size_t i = 0; i < n; ++i) {
    const double ref = base[i] + 1.3 * (0.25 * (a[i] - base[i]) + 0.75 * (b[i] - base[i]));
    REQUIRE(std::fabs(got[i] - ref) <= test::tolerance("BF16", ref, 8));
  }
}

TEST_CASE("sharded output: index.json with total_size and weight_map; shards read back whole") {
  const Values a = make_values("F32", 40), b = make_values("F32", 41);
  test::MemoryInputs files;
  files.add("a.safetensors", file_of(a, "F32"));
  files.add("b.safetensors", file_of(b, "F32"));
  MergeOptions o;
  o.out_shard_size = 600;
  const auto run = merge(files, R"({"merge_method":"linear","models":[{"model":"a.safetensors"},{"model":"b.safetensors"}]})", o);
  const std::string index = run.out.text("model.safetensors.index.json");
  size_t total = 0;
  for (const auto& s : kShapes) total += s.n() * 4;
  CHECK(index.find("\"total_size\": " + std::to_string(total)) != std::string::npos);
  std::map<std::string, test::DecodedTensor> all;
  int shards = 0;
  for (const auto& [name, bytes] : run.out.committed)
    if (name.rfind("model-", 0) == 0) {
      ++shards;
      CHECK(index.find(name) != std::string::npos);
      for (auto& [t, d] : test::decode_file(bytes)) all[t] = d;
    }
  CHECK(shards >= 3);
  CHECK(run.out.committed.count("model.safetensors") == 0);
  REQUIRE(all.size() == kShapes.size());
  for (const auto& s : kShapes)
    for (size_t i = 0; i < s.n(); ++i)
      REQUIRE(all[s.name].values[i] == static_cast<float>((static_cast<float>(a.at(s.name)[i]) + static_cast<float>(b.at(s.name)[i])) / 2.0f));
}

TEST_CASE("sharded inputs merge like the same tensors in one file") {
  const Values base = make_values("BF16", 50), a = make_values("BF16", 51, &base);
  test::MemoryInputs files;
  files.add("base.safetensors", file_of(base, "BF16"));
  // a as a folder of two shards
  std::vector<test::TestTensor> first, second;
  std::string weight_map;
  for (size_t i = 0; i < kShapes.size(); ++i) {
    const auto& s = kShapes[i];
    const std::string shard = i < 4 ? "s1.safetensors" : "s2.safetensors";
    (i < 4 ? first : second).push_back({s.name, "BF16", s.dims, test::encode("BF16", a.at(s.name))});
    weight_map += (i ? "," : "") + std::string("\"") + s.name + "\":\"" + shard + "\"";
  }
  files.add("a/s1.safetensors", test::safetensors_file(first));
  files.add("a/s2.safetensors", test::safetensors_file(second));
  files.add_text("a/model.safetensors.index.json", "{\"weight_map\":{" + weight_map + "}}");
  files.add("a.safetensors", file_of(a, "BF16"));
  const std::string config = R"({"merge_method":"task_arithmetic","base_model":"base.safetensors","models":[{"model":"MODEL","parameters":{"weight":0.6}}]})";
  auto with = [&](const std::string& m) {
    std::string c = config;
    c.replace(c.find("MODEL"), 5, m);
    return merge(files, c).out.committed.at("model.safetensors");
  };
  const Bytes from_folder = with("a"), from_file = with("a.safetensors");
  CHECK(test::decode_file(from_folder).at("lm_head.weight").values == test::decode_file(from_file).at("lm_head.weight").values);
  check_output(
      from_folder, "BF16",
      [&](const std::string& n, size_t i) { return base.at(n)[i] + 0.6 * (a.at(n)[i] - base.at(n)[i]); },
      [&](const std::string& n, size_t i) { return 2 * std::fabs(a.at(n)[i]); });
}

TEST_CASE("a cancelled merge discards every file it wrote") {
  const Values a = make_values("F32", 60), b = make_values("F32", 61);
  test::MemoryInputs files;
  files.add("a.safetensors", file_of(a, "F32"));
  files.add("b.safetensors", file_of(b, "F32"));
  test::MemoryOutputs out;
  int calls = 0;
  CHECK_THROWS_AS(run_merge(R"({"merge_method":"linear","models":[{"model":"a.safetensors"},{"model":"b.safetensors"}]})",
                            {}, files, out, [&](const Progress&) { return ++calls < 5; }),
                  Cancelled);
  CHECK(out.discarded);
  CHECK(out.committed.empty());
  CHECK(out.pending.empty());
}

TEST_CASE("a file that fails mid-merge leaves nothing committed and names the file") {
  const Values a = make_values("F32", 62), b = make_values("F32", 63);
  test::MemoryInputs files;
  files.add("a.safetensors", file_of(a, "F32"));
  files.add("b.safetensors", file_of(b, "F32"));
  // The file shrinks after its header was read (two reads: length, JSON): later reads fail.
  struct ShrinkingSource : ByteSource {
    std::unique_ptr<ByteSource> inner;
    int reads = 0;
    const std::string& name() const override { return inner->name(); }
    uint64_t size() const override { return inner->size(); }
    void read(uint64_t offset, size_t n, uint8_t* dst) override {
      if (++reads > 2) fail(name(), "", "the file shrank while reading");
      inner->read(offset, n, dst);
    }
  };
  struct Shrinking : test::MemoryInputs {
    std::unique_ptr<ByteSource> open(const std::string& path) override {
      auto src = MemoryInputs::open(path);
      if (path != "b.safetensors") return src;
      auto shrinking = std::make_unique<ShrinkingSource>();
      shrinking->inner = std::move(src);
      return shrinking;
    }
  } shrinking;
  shrinking.files = files.files;
  test::MemoryOutputs out;
  CHECK_THROWS_WITH(run_merge(R"({"merge_method":"linear","models":[{"model":"a.safetensors"},{"model":"b.safetensors"}]})",
                              {}, shrinking, out),
                    "b.safetensors: the file shrank while reading");
  CHECK(out.committed.empty());
}

TEST_CASE("integer tensors are copied from the base unchanged") {
  test::MemoryInputs files;
  Bytes ints(24);
  for (size_t i = 0; i < 24; ++i) ints[i] = static_cast<uint8_t>(i * 7);
  for (const char* f : {"base.safetensors", "a.safetensors"})
    files.add(f, test::safetensors_file({{"w", "F32", {2}, test::encode("F32", {1.0, 2.0})}, {"ids", "I64", {3}, ints}}));
  const auto run = merge(files, R"({"merge_method":"task_arithmetic","base_model":"base.safetensors","models":[{"model":"a.safetensors","parameters":{"weight":1}}]})");
  const Bytes& out = run.out.committed.at("model.safetensors");
  CHECK(std::search(out.begin(), out.end(), ints.begin(), ints.end()) != out.end());
  CHECK(test::decode_file(out).at("ids").dtype == "I64");
}

TEST_CASE("folder inputs: config.json (torch_dtype updated), tokenizer files and a model card") {
  const Values base = make_values("BF16", 70), a = make_values("BF16", 71, &base);
  test::MemoryInputs files;
  files.add("base/model.safetensors", file_of(base, "BF16"));
  files.add_text("base/config.json", R"({"architectures":["X"],"torch_dtype":"bfloat16","hidden_size":8})");
  files.add_text("base/tokenizer.json", "{\"tok\":1}");
  files.add_text("base/tokenizer_config.json", "{}");
  files.add("a/model.safetensors", file_of(a, "BF16"));
  files.add_text("a/tokenizer.json", "{\"tok\":2}");
  MergeOptions o;
  o.config_text = "merge_method: task_arithmetic\nbase_model: base\n";
  const auto run = merge(files, R"({"merge_method":"task_arithmetic","base_model":"base","dtype":"float32",
      "models":[{"model":"a","parameters":{"weight":1}}]})", o);
  const std::string config = run.out.text("config.json");
  CHECK(config.find("\"torch_dtype\": \"float32\"") != std::string::npos);
  CHECK(config.find("\"hidden_size\": 8") != std::string::npos);
  CHECK(run.out.text("tokenizer.json") == "{\"tok\":1}");
  CHECK(run.out.committed.count("tokenizer_config.json") == 1);
  const std::string card = run.out.text("README.md");
  CHECK(card.find("task arithmetic") != std::string::npos);
  CHECK(card.find("using base as a base") != std::string::npos);
  CHECK(card.find("* a\n") != std::string::npos);
  CHECK(card.find("merge_method: task_arithmetic\nbase_model: base\n```") != std::string::npos);
  const std::string weights(run.out.committed.at("model.safetensors").begin(), run.out.committed.at("model.safetensors").begin() + 200);
  CHECK(weights.find("\"__metadata__\":{\"format\":\"pt\",\"merge_config\":\"merge_method: task_arithmetic") != std::string::npos);
}

TEST_CASE("tokenizer_source picks another model's tokenizer") {
  const Values base = make_values("F32", 80), a = make_values("F32", 81, &base);
  test::MemoryInputs files;
  files.add("base/model.safetensors", file_of(base, "F32"));
  files.add_text("base/tokenizer.json", "base-tok");
  files.add("a/model.safetensors", file_of(a, "F32"));
  files.add_text("a/tokenizer.json", "a-tok");
  const auto run = merge(files, R"({"merge_method":"task_arithmetic","base_model":"base","tokenizer_source":"a",
      "models":[{"model":"a","parameters":{"weight":1}}]})");
  CHECK(run.out.text("tokenizer.json") == "a-tok");
}
