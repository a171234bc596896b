// Evaluation (SPEC §9): the engine's NLL against one computed here from the f64 reference
// forward pass (tests/reference_decoder), the windows counted by hand, the same bits for any
// thread count and budget, the eval job's events, cancel and errors.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "decoder_models.hpp"
#include "reference_decoder.hpp"
#include "support.hpp"
#include "wasmerge/decoder.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/eval.hpp"
#include "wasmerge/job.hpp"

using namespace wasmerge;
using nlohmann::json;

namespace {

// The folder "m": config.json and model.safetensors.
test::MemoryInputs folder_of(const test::TestModel& m) {
  test::MemoryInputs files = test::files_of(m, "", "m/model.safetensors");
  files.add_text("m/config.json", m.config);
  return files;
}

std::vector<int32_t> random_tokens(size_t n, const std::string& config, uint32_t seed) {
  return test::random_sequences({n}, test::vocab_of(config), seed)[0];
}

// SPEC §9 from the reference's logits, written out plainly: windows of `context`, the last
// dropped when shorter than 2, each window's tokens 1..n-1 scored by log-softmax in f64.
struct ReferenceNll {
  double sum = 0;
  size_t predicted = 0;
};
ReferenceNll reference_nll(const test::TestModel& m, const std::vector<int32_t>& tokens, size_t context) {
  const size_t vocab = size_t(test::vocab_of(m.config));
  ReferenceNll r;
  for (size_t first = 0; first < tokens.size(); first += context) {
    const std::vector<int32_t> window(tokens.begin() + first,
                                      tokens.begin() + std::min(tokens.size(), first + context));
    if (window.size() < 2) continue;
    const std::vector<double> logits = test::reference_logits(m.config, m.tensors, {window});
    for (size_t i = 0; i + 1 < window.size(); ++i) {
      const double* row = &logits[i * vocab];
      double max = row[0];
      for (size_t v = 1; v < vocab; ++v) max = std::max(max, row[v]);
      double sum = 0;
      for (size_t v = 0; v < vocab; ++v) sum += std::exp(row[v] - max);
      r.sum += max + std::log(sum) - row[window[i + 1]];
      ++r.predicted;
    }
  }
  return r;
}

EvalResult evaluate(const test::TestModel& m, const std::vector<int32_t>& tokens, uint64_t context, unsigned threads,
                    uint64_t budget, size_t* groups = nullptr) {
  test::MemoryInputs files = folder_of(m);
  ThreadPool pool(threads);
  EvalProgress progress;
  progress.on_start = [&](int, size_t, size_t g) {
    if (groups) *groups = g;
  };
  return evaluate_model(files, EvalModel{"m", tokens, 1000}, context, pool, budget, progress);
}

struct Case {
  const char* name;
  test::TestModel model;
};

std::vector<Case> cases() {
  return {{"llama GQA", test::random_decoder(test::kLlama, "BF16", 21)},
          {"qwen2 biases, tied", test::random_decoder(test::kQwen2, "F32", 22)},
          {"qwen3 q/k norms", test::random_decoder(test::kQwen3, "BF16", 23)},
          {"mixtral", test::random_moe(test::kMistral, "mixtral", 4, "BF16", 24)},
          {"qwen2_moe shared expert", test::random_moe(test::kQwen2, "qwen2_moe", 4, "F32", 25)},
          {"qwen3_moe", test::random_moe(test::kQwen3, "qwen3_moe", 3, "BF16", 26)}};
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const MergeError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("eval windows: consecutive, non-overlapping, the last dropped when shorter than 2") {
  auto lengths = [](size_t tokens, size_t context) {
    std::vector<size_t> out;
    size_t expected_first = 0;
    for (const EvalWindow& w : eval_windows(tokens, context)) {
      REQUIRE(w.first == expected_first);
      expected_first += w.length;
      out.push_back(w.length);
    }
    return out;
  };
  CHECK(lengths(10, 4) == std::vector<size_t>{4, 4, 2});
  CHECK(lengths(9, 4) == std::vector<size_t>{4, 4});  // the 1-token tail is dropped
  CHECK(lengths(8, 4) == std::vector<size_t>{4, 4});
  CHECK(lengths(3, 512) == std::vector<size_t>{3});
  CHECK(lengths(1, 4).empty());
  CHECK(lengths(5, 2) == std::vector<size_t>{2, 2});
}

TEST_CASE("eval NLL matches the f64 reference for llama, qwen2, qwen3, mixtral, qwen2_moe and qwen3_moe") {
  for (const Case& c : cases()) {
    CAPTURE(c.name);
    const auto tokens = random_tokens(21, c.model.config, 31);
    // 21 tokens in windows of 8: 8 + 8 + 5, predicting 7 + 7 + 4 = 18.
    const EvalResult r = evaluate(c.model, tokens, 8, 2, 64 << 20);
    const ReferenceNll ref = reference_nll(c.model, tokens, 8);
    REQUIRE(ref.predicted == 18);
    CHECK(r.tokens == 21);
    CHECK(r.predicted == 18);
    const double nll = ref.sum / 18;
    INFO("engine " << r.nll << ", reference " << nll);
    CHECK(std::fabs(r.nll - nll) <= 1e-4 * std::fabs(nll));
    CHECK(std::fabs(r.perplexity - std::exp(nll)) <= 1e-4 * std::exp(nll));
    const double bpb = ref.sum / std::log(2.0) / 1000;
    CHECK(std::fabs(r.bits_per_byte - bpb) <= 1e-4 * bpb);
  }
}

TEST_CASE("eval: the default context is min(512, max_position_embeddings); 1 and 2 threads, any budget, same bits") {
  const test::TestModel m = test::random_decoder(test::kQwen2, "BF16", 41);  // max_position_embeddings 512
  const auto tokens = random_tokens(40, m.config, 42);
  const EvalResult whole = evaluate(m, tokens, 0, 1, 1ull << 30);
  CHECK(whole.predicted == 39);  // one window
  const ReferenceNll ref = reference_nll(m, tokens, 512);
  CHECK(std::fabs(whole.nll - ref.sum / 39) <= 1e-4 * ref.sum / 39);

  for (const Case& c : cases()) {
    CAPTURE(c.name);
    const auto text = random_tokens(29, c.model.config, 43);
    size_t groups = 0;
    const EvalResult one = evaluate(c.model, text, 6, 1, 1ull << 30, &groups);
    CHECK(groups == 1);
    // A budget that holds one window's activations at a time: 5 groups, every block of
    // weights one or a few rows.
    const EvalResult two = evaluate(c.model, text, 6, 2, 20000, &groups);
    CHECK(groups == 5);
    CHECK(one.predicted == 5 + 5 + 5 + 5 + 4);
    CHECK(std::memcmp(&one.nll_sum, &two.nll_sum, sizeof(double)) == 0);
    CHECK(std::memcmp(&one.perplexity, &two.perplexity, sizeof(double)) == 0);
    CHECK(std::memcmp(&one.bits_per_byte, &two.bits_per_byte, sizeof(double)) == 0);
  }
}

TEST_CASE("eval errors: one line naming the model or its config") {
  const test::TestModel m = test::random_decoder(test::kQwen3, "F32", 51);  // vocab 41, 512 positions
  CHECK(message_of([&] { evaluate(m, {}, 0, 1, 1 << 20); }) == "m: the text has no tokens to evaluate");
  CHECK(message_of([&] { evaluate(m, {5}, 0, 1, 1 << 20); }) == "m: the text is 1 token: nothing to predict");
  CHECK(message_of([&] {
          evaluate(m, {1, 2, 3}, 513, 1, 1 << 20);
        }) == "m/config.json: context 513 is longer than the model's max_position_embeddings (512)");
  CHECK(message_of([&] {
          evaluate(m, {1, 41, 3}, 0, 1, 1 << 20);
        }) == "m: token id 41 is outside the vocabulary (vocab_size 41)");
  test::TestModel gpt2 = m;
  gpt2.config = R"({"model_type":"gpt2","num_hidden_layers":2})";
  CHECK(message_of([&] {
          evaluate(gpt2, {1, 2}, 0, 1, 1 << 20);
        }) ==
        "m/config.json: model_type 'gpt2' is not one the decoder runs (llama, mistral, qwen2, qwen3, mixtral, "
        "qwen2_moe, qwen3_moe)");
  test::MemoryInputs bare = test::files_of(m, "", "m/model.safetensors");  // no config.json
  ThreadPool pool(1);
  CHECK(message_of([&] {
          evaluate_model(bare, EvalModel{"m", {1, 2}, 10}, 0, pool, 1 << 20, {});
        }) == "m: needs its config.json to be evaluated (give the model's folder)");
}

TEST_CASE("eval job: events per model and layer, results in order, cancel between layers, errors") {
  const test::TestModel m = test::random_decoder(test::kLlama, "BF16", 61);  // 2 layers
  test::MemoryInputs files = folder_of(m);
  const auto tokens = random_tokens(12, m.config, 62);
  json job = {
      {"kind", "eval"},
      {"models",
       {{{"path", "m"}, {"tokens", tokens}, {"text_bytes", 30}},
        {{"path", "m"}, {"tokens", std::vector<int32_t>(tokens.begin(), tokens.begin() + 7)}, {"text_bytes", 20}}}},
      {"context", 5},
      {"threads", 2},
      {"memory_mb", 64}};
  auto run = [&](const std::string& text, int cancel_after = -1) {
    std::vector<json> events;
    int layers_seen = 0;
    const int status = run_job(
        text, files, [](const std::string&) -> std::unique_ptr<OutputFiles> { return nullptr; },
        [&](const std::string& e) {
          events.push_back(json::parse(e));
          if (events.back()["event"] == "eval_layer") ++layers_seen;
        },
        [&] { return cancel_after >= 0 && layers_seen > cancel_after; });
    return std::make_pair(status, events);
  };
  const auto done = run(job.dump());
  REQUIRE(done.first == 0);
  std::vector<std::string> kinds;
  for (const json& e : done.second) kinds.push_back(e["event"]);
  CHECK(kinds == std::vector<std::string>{"eval_start", "eval_layer", "eval_layer", "eval_result", "eval_start",
                                          "eval_layer", "eval_layer", "eval_result", "done"});
  const json& start = done.second[0];
  CHECK(start["layers"] == 2);
  CHECK(start["windows"] == 3);  // 12 tokens in windows of 5: 5, 5, 2
  const json& first = done.second[3];
  CHECK(first["model"] == 0);
  CHECK(first["tokens"] == 12);
  CHECK(first["predicted"] == 4 + 4 + 1);
  const double nll = first["nll"].get<double>();
  CHECK(first["perplexity"].get<double>() == doctest::Approx(std::exp(nll)).epsilon(1e-12));
  CHECK(first["bits_per_byte"].get<double>() == doctest::Approx(nll * 9 / std::log(2.0) / 30).epsilon(1e-12));
  CHECK(done.second[7]["predicted"] == 4 + 1);  // 7 tokens: 5, 2
  const ReferenceNll ref = reference_nll(m, tokens, 5);
  CHECK(std::fabs(nll - ref.sum / 9) <= 1e-4 * ref.sum / 9);

  const auto cancelled = run(job.dump(), 0);
  CHECK(cancelled.first == 130);
  CHECK(cancelled.second.back()["event"] == "error");
  CHECK(cancelled.second.back()["cancelled"] == true);
  for (const json& e : cancelled.second) CHECK(e["event"] != "eval_result");

  auto error_of = [&](const json& j) {
    const auto r = run(j.dump());
    CHECK(r.first == 1);
    return r.second.back()["message"].get<std::string>();
  };
  json bad = job;
  bad["models"][1]["tokens"] = json::array();
  CHECK(error_of(bad) == "m: the text has no tokens to evaluate");
  bad = job;
  bad["context"] = 2000;
  CHECK(error_of(bad) == "m/config.json: context 2000 is longer than the model's max_position_embeddings (1024)");
  bad["context"] = 1;
  CHECK(error_of(bad) == "job: context must be at least 2 tokens");
  bad = job;
  bad["models"][0]["tokens"][3] = -4;
  CHECK(error_of(bad) == "job: eval: a token id of m is not a non-negative integer");
  bad = job;
  bad["models"][0].erase("text_bytes");
  CHECK(error_of(bad).find("text_bytes") != std::string::npos);
  bad = job;
  bad["models"] = json::array();
  CHECK(error_of(bad).find("\"models\"") != std::string::npos);
  bad = job;
  bad["models"][0]["path"] = "nowhere";
  CHECK(error_of(bad).find("nowhere") != std::string::npos);
}

TEST_CASE("decoder logits of Mixtral, Qwen2-MoE and Qwen3-MoE match the f64 reference") {
  for (const Case& c : cases()) {
    if (c.model.config.find("moe") == std::string::npos && c.model.config.find("mixtral") == std::string::npos)
      continue;
    CAPTURE(c.name);
    const auto sequences = test::random_sequences({9, 4}, test::vocab_of(c.model.config), 71);
    test::MemoryInputs files = test::files_of(c.model);
    const Model model = open_model(files, "model.safetensors");
    ThreadPool pool(2);
    Decoder decoder(model, read_decoder_shape(c.model.config, "config.json"), pool, 1 << 20);
    test::require_close(decoder.logits(sequences), test::reference_logits(c.model.config, c.model.tensors, sequences),
                        1e-4, "logits");
  }
}
