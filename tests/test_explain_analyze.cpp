// The playground's views of a merge: the explain event (steps of one tensor) against the
// f64 reference and the merged output, and the analysis report against counts by hand.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "reference.hpp"
#include "support.hpp"
#include "wasmerge/merge.hpp"
#include "wasmerge/method.hpp"

using namespace wasmerge;
using json = nlohmann::json;

namespace {

// base 0..n-1 eighths; model k adds d_k[i] eighths.
test::MemoryInputs models_with_deltas(const std::vector<std::vector<double>>& deltas) {
  const size_t n = deltas[0].size();
  std::vector<double> base(n);
  for (size_t i = 0; i < n; ++i) base[i] = static_cast<double>(i) / 8;
  test::MemoryInputs files;
  files.add("base.safetensors", test::safetensors_file({{"w", "F32", {n}, test::encode("F32", base)}}));
  for (size_t k = 0; k < deltas.size(); ++k) {
    std::vector<double> m(n);
    for (size_t i = 0; i < n; ++i) m[i] = base[i] + deltas[k][i] / 8;
    files.add("m" + std::to_string(k) + ".safetensors", test::safetensors_file({{"w", "F32", {n}, test::encode("F32", m)}}));
  }
  return files;
}

std::vector<json> run_with(test::MemoryInputs& files, const std::string& method, const MergeOptions& options,
                           test::MemoryOutputs& out) {
  const std::string config = R"({"merge_method":")" + method + R"(","base_model":"base.safetensors","models":[
      {"model":"m0.safetensors","parameters":{"weight":1.0,"density":0.5}},
      {"model":"m1.safetensors","parameters":{"weight":0.5,"density":0.5}}]})";
  std::vector<json> events;
  run_merge(config, options, files, out, {}, {}, [&](const std::string& e) { events.push_back(json::parse(e)); });
  return events;
}

}  // namespace

TEST_CASE("explain: each step of a TIES merge of a window of one tensor") {
  const std::vector<std::vector<double>> deltas = {{3, -1, 0, 2, -4, 1, 5, -2}, {-2, 2, 1, 2, -1, -3, 1, 4}};
  auto files = models_with_deltas(deltas);
  MergeOptions o;
  o.explain = ExplainRequest{"w", 2, 5};
  test::MemoryOutputs out;
  const auto events = run_with(files, "ties", o, out);
  REQUIRE(events.size() == 1);
  const json& e = events[0];
  CHECK(e["event"] == "explain");
  CHECK(e["stages"] == json::array({"delta", "kept", "weighted", "sign", "mixed", "result"}));  // the method's own list
  CHECK(e["offset"] == 2);
  CHECK(e["count"] == 5);
  // By hand, density 0.5 of 8 keeps 4 per model (window = indices 2..6):
  //   model 0 |δ| 3,1,0,2,4,1,5,2: keeps 6, 4, 0 and index 3 (ties index 7; the lower index wins);
  //   model 1 |δ| 2,2,1,2,1,3,1,4: keeps 7, 5, then of the three 2s indices 0 and 1.
  CHECK(e["delta"][0] == json::array({0.0, 0.25, -0.5, 0.125, 0.625}));
  CHECK(e["kept"][0] == json::array({0.0, 0.25, -0.5, 0.0, 0.625}));
  CHECK(e["delta"][1] == json::array({0.125, 0.25, -0.125, -0.375, 0.125}));
  CHECK(e["kept"][1] == json::array({0.0, 0.0, 0.0, -0.375, 0.0}));
  CHECK(e["weighted"][1] == json::array({0.0, 0.0, 0.0, -0.1875, 0.0}));
  CHECK(e["sign"] == json::array({1, 1, -1, -1, 1}));  // Σ ω: 0 counts as +
  CHECK(e["agree"][0] == json::array({0, 1, 1, 0, 1}));
  CHECK(e["agree"][1] == json::array({0, 0, 0, 1, 0}));
  // mixed = Σ agreeing ω / Σ agreeing w; the result is the output's value (F32, exact)
  CHECK(e["mixed"] == json::array({0.0, 0.25, -0.5, -0.1875 / 0.5, 0.625}));
  const auto merged = test::decode_file(out.committed.at("model.safetensors")).at("w").values;
  for (int i = 0; i < 5; ++i) CHECK(e["result"][i].get<double>() == merged[2 + i]);
  // and the f64 reference agrees with the merged output
  test::RefTensorMerge ref;
  ref.method = "ties";
  ref.name = "w";
  for (size_t i = 0; i < 8; ++i) ref.base.push_back(static_cast<double>(i) / 8);
  for (const auto& d : deltas) {
    std::vector<double> m;
    for (size_t i = 0; i < 8; ++i) m.push_back(ref.base[i] + d[i] / 8);
    ref.models.push_back(m);
  }
  ref.weights = {1.0, 0.5};
  ref.densities = {0.5, 0.5};
  ref.normalize = true;
  const auto expected = test::reference_merge(ref);
  for (size_t i = 0; i < 8; ++i) CHECK(merged[i] == doctest::Approx(expected[i]).epsilon(1e-6));
}

TEST_CASE("explain without consensus has no sign nor agreement; a window past the end is cut") {
  auto files = models_with_deltas({{1, 2, 3}, {3, 2, 1}});
  MergeOptions o;
  o.explain = ExplainRequest{"w", 1, 100};
  test::MemoryOutputs out;
  const auto events = run_with(files, "task_arithmetic", o, out);
  REQUIRE(events.size() == 1);
  CHECK(events[0]["count"] == 2);
  CHECK(events[0]["stages"] == json::array({"delta", "weighted", "mixed", "result"}));  // nothing sparsified
  CHECK_FALSE(events[0].contains("kept"));
  CHECK_FALSE(events[0].contains("sign"));
  CHECK(events[0]["mixed"] == json::array({0.25 + 0.125, 0.375 + 0.0625}));
}

TEST_CASE("analyze: |δ| by binade, zeros, sign conflicts and top-k overlap (it takes no output files)") {
  // δ in eighths: model 0 = {8, -4, 0, 2, 16, -1}, model 1 = {-8, 4, 1, 2, 16, 0}
  auto files = models_with_deltas({{8, -4, 0, 2, 16, -1}, {-8, 4, 1, 2, 16, 0}});
  std::vector<json> events;
  const size_t tensors = run_analysis(R"({"merge_method":"ties","base_model":"base.safetensors","models":[
      {"model":"m0.safetensors","parameters":{"weight":1.0,"density":0.5}},
      {"model":"m1.safetensors","parameters":{"weight":0.5,"density":0.5}}]})",
                                      {}, files, {}, {}, [&](const std::string& e) { events.push_back(json::parse(e)); });
  CHECK(tensors == 1);
  REQUIRE(events.size() == 1);
  const json& r = events[0];
  CHECK(r["event"] == "tensor_report");
  CHECK(r["elements"] == 6);
  CHECK(r["zero"] == json::array({1, 1}));
  const int min = r["hist_min_log2"];
  auto bin = [&](int log2) { return log2 - min; };
  // model 0: |δ| = 1 (2^0), 0.5 (2^-1), 0.25 (2^-2), 2 (2^1), 0.125 (2^-3)
  for (int b : {bin(0), bin(-1), bin(-2), bin(1), bin(-3)}) CHECK(r["abs_delta_hist"][0][b] == 1);
  CHECK(r["sign_conflict"].get<double>() == doctest::Approx(2.0 / 6));  // elements 0 and 1
  // top-3 (density 0.5): model 0 {4, 0, 1}; model 1 {4, 0, 1}: |8|=|−8|... all three shared
  CHECK(r["topk_overlap"][0][1].get<double>() == doctest::Approx(1.0));
  CHECK(r["topk_density"].get<double>() == 0.5);
}

TEST_CASE("analyze uses density 0.2 when the config gives none") {
  auto files = models_with_deltas({std::vector<double>(10, 1.0), std::vector<double>(10, 2.0)});
  std::vector<json> events;
  run_analysis(R"({"merge_method":"task_arithmetic","base_model":"base.safetensors","models":[
      {"model":"m0.safetensors","parameters":{"weight":1}},{"model":"m1.safetensors","parameters":{"weight":1}}]})",
               {}, files, {}, {}, [&](const std::string& e) { events.push_back(json::parse(e)); });
  REQUIRE(events.size() == 1);
  CHECK(events[0]["topk_density"].get<double>() == 0.2);
  CHECK(events[0]["topk_overlap"][0][1].get<double>() == 1.0);  // all tied: the first 2 of each
  CHECK(events[0]["sign_conflict"].get<double>() == 0.0);
}

// A config every registered method accepts, from its catalogue entry: its smallest model
// count (two where it allows), a base when it takes one, and every required parameter.
std::string config_from_catalogue(const MergeMethod& m) {
  const size_t models = std::max<size_t>(m.models().min, m.models().max && *m.models().max < 2 ? 1 : 2);
  std::string per_model, global;
  for (const ParamSpec& p : m.params()) {
    if (!p.required) continue;
    std::string& into = p.scope == ParamSpec::Scope::Global ? global : per_model;
    into += (into.empty() ? "" : ",") + std::string("\"") + p.name + "\":0.5";
  }
  std::string c = R"({"merge_method":")" + std::string(m.name()) + "\"";
  if (m.takes_base()) c += R"(,"base_model":"base.safetensors")";
  c += R"(,"models":[)";
  for (size_t k = 0; k < models; ++k)
    c += (k ? "," : "") + std::string(R"({"model":"m)") + std::to_string(k) + R"(.safetensors","parameters":{)" +
         per_model + "}}";
  return c + "],\"parameters\":{" + global + "}}";
}

TEST_CASE("explain: every registered method's result window is its merged output") {
  auto files = models_with_deltas({{3, -1, 0, 2, -4, 1, 5, -2}, {-2, 2, 1, 2, -1, -3, 1, 4}});
  for (const MergeMethod* m : all_methods()) {
    const std::vector<std::string> stages = m->stages();
    if (stages.empty()) continue;  // passthrough copies: it has no steps to show
    const std::string config = config_from_catalogue(*m);
    INFO(config);
    MergeOptions o;
    o.explain = ExplainRequest{"w", 1, 6};
    test::MemoryOutputs out;
    std::vector<json> events;
    run_merge(config, o, files, out, {}, {}, [&](const std::string& e) { events.push_back(json::parse(e)); });
    REQUIRE(events.size() == 1);
    CHECK(events[0]["stages"] == json(stages));
    const auto merged = test::decode_file(out.committed.at("model.safetensors")).at("w").values;
    for (int i = 0; i < 6; ++i) CHECK(events[0]["result"][i].get<double>() == merged[1 + i]);
  }
}
