// Targeted cases for SPEC §6's selection methods, beyond the conformance table: DELLA's
// mask against draws taken from the SPEC's independent vectors, breadcrumbs' tie rule on
// a tensor of equal magnitudes, sce's variance cut and arcee_fusion's quantiles on tensors
// larger than the budget (same bytes for 1 and 3 threads, whole and split), and the
// errors a config can cause.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "math/deterministic_math.hpp"
#include "reference.hpp"
#include "one_tensor.hpp"
#include "support.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/merge.hpp"

using namespace wasmerge;
using test::Bytes;

namespace {

using test::OneTensor;
using test::files_of;
using test::config_of;
using test::merge;
using test::check_everywhere;
using test::grid_tensor;

std::vector<double> merged(const std::string& config, const OneTensor& t) {
  test::MemoryInputs files = files_of(t);
  return test::decode_file(merge(config, files)).at(t.name).values;
}

std::string error_of(const std::string& config, const OneTensor& t) {
  test::MemoryInputs files = files_of(t);
  try {
    merge(config, files);
  } catch (const MergeError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("della: the mask of a hand-checked row, from the SPEC's independent draws") {
  // dare_mask.json, seed 0, lm_head.weight, model 0: u >> 40 at indices 0, 1, 2 is
  // 4334872, 696271, 14779469. d = 0.5, ε = 0.3 on a row of 3: ranks 0, 1, 2 keep with
  // p = 0.2, 0.5, 0.8, thresholds floor(p·2^24 + 0.5) = 3355443, 8388608, 13421773.
  OneTensor t;
  t.name = "lm_head.weight";
  t.shape = {1, 3};
  t.base = {0, 0, 0};
  const std::string config =
      config_of("della_linear", {R"({"weight":1,"density":0.5,"epsilon":0.3})"}, R"(,"parameters":{"rescale":false})");
  // |δ| = 3, 1, 2: ranks 2, 0, 1: index 0 at p 0.8 (4334872 < 13421773 keeps), index 1 at
  // p 0.2 (696271 < 3355443 keeps), index 2 at p 0.5 (14779469 ≥ 8388608 drops).
  t.models = {{3, -1, 2}};
  CHECK(merged(config, t) == std::vector<double>{3, -1, 0});
  // |δ| = 1, 2, 3: index 0 at p 0.2 drops (4334872 ≥ 3355443), 1 at 0.5 keeps, 2 at 0.8 drops.
  t.models = {{1, 2, -3}};
  CHECK(merged(config, t) == std::vector<double>{0, 2, 0});
  // Equal |δ| rank by index: 0, 1, 2, as the row above; reversed ranks would keep index 0.
  t.models = {{2, -2, 2}};
  CHECK(merged(config, t) == std::vector<double>{0, -2, 0});
  // A 1-D tensor is one row: the same three draws.
  t.shape = {3};
  t.models = {{3, -1, 2}};
  CHECK(merged(config, t) == std::vector<double>{3, -1, 0});
}

TEST_CASE("della: ranks are per row; a row is never split, whatever the budget") {
  // 300 rows of 1000: 16 rows a chunk; 1 MB splits the tensor into many blocks.
  OneTensor t = grid_tensor(300, 1000, 3, 3, 5);
  test::RefTensorMerge ref;
  ref.method = "della";
  ref.weights = {1.0, 0.5, -0.25};
  ref.densities = {0.5, 0.3, 0.6};
  ref.model_params = {{}, {{"epsilon", 0.1}}, {{"epsilon", 0.3}}};
  ref.normalize = true;
  ref.rescale = true;
  ref.seed = 3;
  check_everywhere(config_of("della",
                             {R"({"weight":1.0,"density":0.5})", R"({"weight":0.5,"density":0.3,"epsilon":0.1})",
                              R"({"weight":-0.25,"density":0.6,"epsilon":0.3})"},
                             R"(,"random_seed":3)"),
                   t, ref);
}

TEST_CASE("breadcrumbs: at equal |δ| the higher index ranks higher") {
  // Ten equal magnitudes: ranks are the indices. d = 0.5, γ = 0.2: n_top = 2, n_keep = 5,
  // n_bot = 3, so ranks [3, 8) stay: indices 3..7.
  OneTensor t;
  t.shape = {10};
  t.base.assign(10, 0.0);
  t.models = {{1, -1, 1, -1, 1, -1, 1, -1, 1, -1}};
  const std::string config = config_of("breadcrumbs", {R"({"weight":1,"density":0.5,"gamma":0.2})"});
  CHECK(merged(config, t) == std::vector<double>{0, 0, 0, -1, 1, -1, 1, -1, 0, 0});
  // Two magnitudes: 1 at even indices, 2 at odd ones. Ascending ranks: the 1s (indices
  // 0, 2, 4, 6, 8) are ranks 0..4, the 2s (1, 3, 5, 7, 9) ranks 5..9; [3, 8) keeps
  // indices 6, 8 of the 1s and 1, 3, 5 of the 2s.
  t.models = {{1, 2, 1, 2, 1, 2, 1, 2, 1, 2}};
  CHECK(merged(config, t) == std::vector<double>{0, 2, 0, 2, 0, 2, 1, 0, 1, 0});
  // γ so large that n_bot would go negative: d = 0.9, γ = 0.5 → n_top = 10 − 9 = 1.
  t.models = {{1, -1, 1, -1, 1, -1, 1, -1, 1, -1}};
  CHECK(merged(config_of("breadcrumbs", {R"({"weight":1,"density":0.9,"gamma":0.5})"}), t) ==
        std::vector<double>{1, -1, 1, -1, 1, -1, 1, -1, 1, 0});
  // γ = 0 keeps the top (mergekit would zero the tensor): ranks [5, 10).
  CHECK(merged(config_of("breadcrumbs", {R"({"weight":1,"density":0.5,"gamma":0})"}), t) ==
        std::vector<double>{0, 0, 0, 0, 0, -1, 1, -1, 1, -1});
}

TEST_CASE("breadcrumbs_ties: heavy ties across blocks, same bytes for any budget and thread count") {
  OneTensor t = grid_tensor(1, 300000, 3, 2, 7);
  test::RefTensorMerge ref;
  ref.method = "breadcrumbs_ties";
  ref.weights = {1.0, 0.5, -0.25};
  ref.densities = {0.3, 0.45, 0.9};
  ref.model_params = {{}, {{"gamma", 0.1}}, {{"gamma", 0.3}}};
  check_everywhere(
      config_of("breadcrumbs_ties", {R"({"weight":1.0,"density":0.3})", R"({"weight":0.5,"density":0.45,"gamma":0.1})",
                                     R"({"weight":-0.25,"density":0.9,"gamma":0.3})"}),
      t, ref);
}

TEST_CASE("sce: select_topk below 1 on a tensor larger than the budget") {
  for (double topk : {0.0, 0.1, 0.45}) {
    OneTensor t = grid_tensor(500, 600, 3, 2, 11);
    test::RefTensorMerge ref;
    ref.method = "sce";
    ref.params["select_topk"] = topk;
    INFO("select_topk " << topk);
    check_everywhere(
        config_of("sce", {"{}", "{}", "{}"}, R"(,"parameters":{"select_topk":)" + std::to_string(topk) + "}"), t, ref);
  }
}

TEST_CASE("sce: select_topk 0 keeps the base; a cut keeps only entries where the models differ") {
  OneTensor t;
  t.shape = {4};
  t.base = {1, 1, 1, 1};
  // Variances: 0 (all equal), 1/9·(...) small, large, 0.
  t.models = {{2, 1, 5, 1}, {2, 2, -3, 1}, {2, 1, 1, 1}};
  CHECK(merged(config_of("sce", {"{}", "{}", "{}"}, R"(,"parameters":{"select_topk":0})"), t) == t.base);
  // Two nonzero variances, select_topk 0.5: floor(2·0.5) = 1 entry, index 2. Its masked
  // δ: 4, −4, 0; sign + (sum 0); only model 0 agrees → b + 4 = 5.
  CHECK(merged(config_of("sce", {"{}", "{}", "{}"}, R"(,"parameters":{"select_topk":0.5})"), t) ==
        std::vector<double>{1, 1, 5, 1});
}

TEST_CASE("arcee_fusion: exact quantiles over a tensor larger than the budget") {
  // 600 rows of 500: F32 inputs, 2.4 MB; the 1 MB budget reads it in blocks, three times.
  // Small changes everywhere and a large one at every 37th entry: outliers to take.
  OneTensor t = grid_tensor(600, 500, 1, 3, 13);
  for (size_t i = 0; i < t.base.size(); i += 37) t.models[0][i] = t.base[i] + 30.0 / 64;
  test::RefTensorMerge ref;
  ref.method = "arcee_fusion";
  check_everywhere(R"({"merge_method":"arcee_fusion","base_model":"base.safetensors",
                       "models":[{"model":"m0.safetensors"}]})",
                   t, ref);
  // Some entries take the model's value, most keep the base's.
  const auto out = merged(R"({"merge_method":"arcee_fusion","base_model":"base.safetensors",
                              "models":[{"model":"m0.safetensors"}]})",
                          t);
  size_t changed = 0;
  for (size_t i = 0; i < out.size(); ++i) changed += out[i] != t.base[i];
  CHECK(changed > 0);
  CHECK(changed < out.size() / 2);
}

TEST_CASE("errors: DELLA's density ± epsilon, model counts, a missing base, rows too long for the budget") {
  OneTensor t;
  t.shape = {2, 3};
  t.base.assign(6, 0.0);
  t.models = {{1, 2, 3, 4, 5, 6}, {1, 2, 3, 4, 5, 6}};
  CHECK(error_of(config_of("della", {R"({"weight":1,"density":0.9})"}), t) ==
        "m0.safetensors: tensor 'w': density 0.9 with epsilon 0.15: density ± epsilon must stay inside (0, 1)");
  CHECK(error_of(config_of("della_linear", {R"({"weight":1,"density":0.5})", R"({"weight":1,"density":0.1})"}), t) ==
        "m1.safetensors: tensor 'w': density 0.1 with epsilon 0.15: density ± epsilon must stay inside (0, 1)");
  CHECK(error_of(config_of("della", {R"({"weight":1,"density":[{"filter":"x","value":0.5},{"value":0.8}]})"},
                           R"(,"parameters":{"epsilon":0.25})"),
                 t) ==
        "m0.safetensors: tensor 'w': density 0.8 with epsilon 0.25: density ± epsilon must stay inside (0, 1)");
  CHECK(error_of(config_of("della", {R"({"weight":1})"}), t).empty());  // density 1 keeps all
  CHECK(error_of(config_of("arcee_fusion", {"{}", "{}"}), t) == "config: arcee_fusion takes exactly 1 model besides base_model, not 2");
  CHECK(error_of(R"({"merge_method":"arcee_fusion","models":[{"model":"m0.safetensors"}]})", t) ==
        "config: arcee_fusion needs a base_model");
  CHECK(error_of(R"({"merge_method":"sce","models":[{"model":"m0.safetensors"}]})", t) ==
        "config: sce needs a base_model");
  CHECK(error_of(config_of("breadcrumbs", {R"({"weight":1,"gamma":1.5})"}), t) ==
        "config: model 'm0.safetensors': gamma 1.5 is outside [0, 1]");
  CHECK(error_of(config_of("sce", {"{}"}, R"(,"parameters":{"select_topk":-0.5})"), t) ==
        "config: parameters: select_topk -0.5 is outside [0, ∞]");
  // A row of 40000 F32 entries with a base and one model needs more than 1 MB holds.
  OneTensor wide;
  wide.shape = {2, 40000};
  wide.base.assign(80000, 0.0);
  wide.models = {std::vector<double>(80000, 1.0)};
  test::MemoryInputs files = files_of(wide);
  try {
    merge(config_of("della_linear", {R"({"weight":1,"density":0.5})"}), files, 1, 1);
    FAIL("no error");
  } catch (const MergeError& e) {
    CHECK(std::string(e.what()).find("tensor 'w'") != std::string::npos);
    CHECK(std::string(e.what()).find("whole rows, of 40000 elements") != std::string::npos);
  }
}

TEST_CASE("deterministic exp and log agree with the C library to a few units in the last place") {
  double worst_exp = 0, worst_log = 0;
  for (int i = -7000; i <= 7000; ++i) {
    const double x = i * 0.1003;
    if (std::exp(x) > 0) worst_exp = std::max(worst_exp, std::fabs(deterministic_exp(x) / std::exp(x) - 1));
  }
  for (int i = 1; i <= 20000; ++i) {
    const double x = std::ldexp(1.0 + i * 0.000731, i % 200 - 100);
    worst_log =
        std::max(worst_log, std::fabs(deterministic_log(x) - std::log(x)) / std::max(1.0, std::fabs(std::log(x))));
  }
  CHECK(worst_exp < 1e-15);
  CHECK(worst_log < 1e-15);
  CHECK(deterministic_exp(0.0) == 1.0);
  CHECK(deterministic_log(1.0) == 0.0);
  CHECK(deterministic_exp(-800.0) == 0.0);
}

TEST_CASE("explain: sce's kept task vectors and arcee_fusion's importance, the result as merged") {
  OneTensor t = grid_tensor(4, 50, 2, 3, 17);
  t.dtype = "F32";  // the explain event's values are f32, before the output's rounding
  for (size_t i = 0; i < t.base.size(); i += 9) t.models[0][i] = t.base[i] + 20.0 / 64;
  for (const std::string method : {"sce", "arcee_fusion"}) {
    INFO(method);
    const bool sce = method == "sce";
    test::MemoryInputs files = files_of(t);
    MergeOptions o;
    o.explain = ExplainRequest{"w", 40, 30};
    test::MemoryOutputs out;
    std::vector<nlohmann::json> events;
    const std::string config = sce ? config_of("sce", {"{}", "{}"}, R"(,"parameters":{"select_topk":0.5})")
                                   : config_of("arcee_fusion", {"{}"});
    run_merge(config, o, files, out, {}, {}, [&](const std::string& e) { events.push_back(nlohmann::json::parse(e)); });
    REQUIRE(events.size() == 1);
    const auto& e = events[0];
    CHECK(e["stages"] ==
          (sce ? nlohmann::json::array({"delta", "kept", "result"}) : nlohmann::json::array({"importance", "result"})));
    const auto merged_values = test::decode_file(out.committed.at("model.safetensors")).at("w").values;
    for (size_t i = 0; i < 30; ++i) CHECK(e["result"][i].get<double>() == merged_values[40 + i]);
    if (sce) {  // kept: δ or 0, the same entries for both models
      for (size_t i = 0; i < 30; ++i) {
        const double d0 = t.models[0][40 + i] - t.base[40 + i], d1 = t.models[1][40 + i] - t.base[40 + i];
        const double k0 = e["kept"][0][i], k1 = e["kept"][1][i];
        CHECK((k0 == d0 || k0 == 0));
        CHECK((k1 == d1 || k1 == 0));
        if (d0 != 0 && d1 != 0) CHECK((k0 == 0) == (k1 == 0));
      }
    } else {
      for (size_t i = 0; i < 30; ++i) CHECK(e["importance"][i].get<double>() >= 0);
    }
  }
}
