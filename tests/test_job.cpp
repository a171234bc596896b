// The job protocol's kinds (job.hpp): describe reports the catalogue, plan writes nothing,
// an unknown kind is an error event; the catalogue is checked against SPEC §2 by hand.
#include <doctest/doctest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "support.hpp"
#include "wasmerge/job.hpp"

using namespace wasmerge;
using json = nlohmann::json;

namespace {

struct Outcome {
  int status;
  std::vector<json> events;
  bool outputs_made = false;
};

Outcome run(const std::string& job, test::MemoryInputs& files) {
  Outcome o;
  o.status = run_job(
      job, files,
      [&](const std::string&) {
        o.outputs_made = true;
        return std::make_unique<test::MemoryOutputs>();
      },
      [&](const std::string& e) { o.events.push_back(json::parse(e)); });
  return o;
}

const json* param(const json& method, const std::string& name) {
  for (const auto& p : method["params"])
    if (p["name"] == name) return &p;
  return nullptr;
}

}  // namespace

TEST_CASE("describe: the catalogue of every method, in the page's order, with SPEC §2's defaults") {
  test::MemoryInputs none;
  const Outcome o = run(R"({"kind":"describe"})", none);
  CHECK(o.status == 0);
  CHECK_FALSE(o.outputs_made);
  REQUIRE(o.events.size() == 1);
  const json& methods = o.events[0]["methods"];
  CHECK(o.events[0]["event"] == "methods");
  std::vector<std::string> names;
  for (const auto& m : methods) names.push_back(m["name"]);
  // Every mergekit method: the task arithmetic family and its sparsifying relatives, the
  // spherical ones, then the rest; passthrough (the layer tool) last.
  CHECK(names == std::vector<std::string>{"linear",       "task_arithmetic", "ties",       "dare_linear",
                                          "dare_ties",    "breadcrumbs",     "breadcrumbs_ties", "della",
                                          "della_linear", "sce",             "slerp",      "nuslerp",
                                          "multislerp",   "karcher",         "model_stock", "nearswap",
                                          "arcee_fusion", "passthrough"});
  auto method = [&](const std::string& name) -> const json& {
    for (const auto& m : methods)
      if (m["name"] == name) return m;
    FAIL("no method " << name);
    return methods[0];
  };
  const json& ties = method("ties");
  CHECK(ties["needs_base"] == true);
  CHECK(ties["url"] == "https://arxiv.org/abs/2306.01708");
  CHECK(ties["stages"] == json::array({"delta", "kept", "weighted", "sign", "mixed", "result"}));
  CHECK((*param(ties, "weight"))["required"] == true);
  CHECK((*param(ties, "weight"))["scope"] == "model");
  CHECK((*param(ties, "density"))["min"] == 0);
  CHECK((*param(ties, "density"))["min_exclusive"] == true);
  CHECK((*param(ties, "density"))["max"] == 1);
  CHECK((*param(ties, "normalize"))["default"] == true);
  CHECK((*param(ties, "rescale_mode"))["choices"] == json::array({"l1", "inverse_density"}));
  CHECK((*param(method("dare_linear"), "rescale"))["default"] == true);
  CHECK((*param(method("task_arithmetic"), "normalize"))["default"] == false);
  CHECK(param(method("task_arithmetic"), "density") == nullptr);  // it sparsifies nothing
  CHECK(method("linear")["needs_base"] == false);
  CHECK(method("passthrough")["models"] == json::parse(R"({"min":1,"max":1})"));
  CHECK(method("arcee_fusion")["models"] == json::parse(R"({"min":1,"max":1})"));
  CHECK((*param(method("sce"), "select_topk"))["default"] == 1.0);
  CHECK((*param(method("breadcrumbs"), "gamma"))["default"] == 0.01);
  CHECK((*param(method("breadcrumbs"), "density"))["default"] == 1.0);
  CHECK((*param(method("della"), "epsilon"))["default"] == 0.15);
  CHECK((*param(method("della"), "normalize"))["default"] == true);
  CHECK((*param(method("della_linear"), "rescale"))["default"] == true);
  CHECK(method("dare_ties")["models"]["max"].is_null());
  // SPEC §6's geometric methods: their models, bases and mergekit's defaults.
  CHECK(method("slerp")["models"] == json::parse(R"({"min":1,"max":1})"));
  CHECK((*param(method("slerp"), "t"))["required"] == true);
  CHECK((*param(method("slerp"), "t"))["scope"] == "global");
  CHECK(method("nuslerp")["needs_base"] == false);
  CHECK(method("nuslerp")["takes_base"] == true);
  CHECK(method("nuslerp")["models"] == json::parse(R"({"min":2,"max":2})"));
  CHECK((*param(method("nuslerp"), "nuslerp_flatten"))["default"] == true);
  CHECK((*param(method("nuslerp"), "nuslerp_row_wise"))["default"] == false);
  CHECK((*param(method("multislerp"), "normalize_weights"))["default"] == true);
  CHECK((*param(method("multislerp"), "eps"))["default"] == 1e-8);
  CHECK((*param(method("karcher"), "max_iter"))["default"] == 10);
  CHECK((*param(method("karcher"), "tol"))["default"] == 1e-5);
  CHECK(method("model_stock")["models"]["min"] == 2);
  CHECK((*param(method("model_stock"), "filter_wise"))["default"] == false);
  CHECK((*param(method("nearswap"), "t"))["required"] == true);
  for (const auto& m : methods) CHECK_FALSE(m["formula"].get<std::string>().empty());
}

TEST_CASE("plan: reports the files and the layer map without making an output; errors are error events") {
  test::MemoryInputs files;
  files.add("m.safetensors", test::safetensors_file({{"model.layers.0.w", "F32", {2}, test::encode("F32", {1, 2})},
                                                     {"model.layers.1.w", "F32", {2}, test::encode("F32", {3, 4})}}));
  const Outcome o = run(R"({"kind":"plan","config":{"merge_method":"passthrough","slices":[
      {"sources":[{"model":"m.safetensors","layer_range":[1,2]}]},{"sources":[{"model":"m.safetensors","layer_range":[0,2]}]}]}})",
                        files);
  CHECK(o.status == 0);
  CHECK_FALSE(o.outputs_made);
  REQUIRE(o.events.size() == 1);
  CHECK(o.events[0]["event"] == "plan");
  CHECK(o.events[0]["layers"]["output"] == 3);
  CHECK(o.events[0]["tensors"][0]["sources"][0]["tensor"] == "model.layers.1.w");
  CHECK(o.events[0]["tensors"][2]["name"] == "model.layers.2.w");

  const Outcome bad = run(R"({"kind":"plan","config":{"merge_method":"passthrough","slices":[
      {"sources":[{"model":"m.safetensors","layer_range":[0,3]}]}]}})",
                          files);
  CHECK(bad.status == 1);
  CHECK(bad.events.back()["message"] == "m.safetensors: layer_range [0, 3] is outside the model's 2 layers");
  CHECK_FALSE(bad.outputs_made);

  const Outcome unknown = run(R"({"kind":"merge2"})", files);
  CHECK(unknown.status == 1);
  CHECK(unknown.events.back()["message"] == "job: unknown kind 'merge2' (merge, plan, analyze, describe, extract_lora or eval)");
}

TEST_CASE("job fields of the wrong kind are error events naming the field, never conversions") {
  test::MemoryInputs files;
  const std::string config = R"("config":{"merge_method":"linear","models":[{"model":"a","parameters":{"weight":1}}]})";
  const std::pair<std::string, std::string> cases[] = {
      {R"({"kind":"plan",)" + config + R"(,"memory_mb":1.8e58})", "memory_mb must be an integer from 0 to"},
      {R"({"kind":"plan",)" + config + R"(,"threads":"2"})", "threads must be an integer from 0 to 1024"},
      {R"({"kind":"plan",)" + config + R"(,"threads":-1})", "threads must be an integer"},
      {R"({"kind":"plan",)" + config + R"(,"random_seed":0.5})", "random_seed must be an integer"},
      {R"({"kind":7,)" + config + "}", "kind must be a string"},
      {R"({"kind":"plan",)" + config + R"(,"out_dir":[]})", "out_dir must be a string"},
      {R"({"kind":"extract_lora","base":"b","model":"m","rank":2,"memory_mb":1e30})", "memory_mb must be an integer"},
      {R"({"kind":"extract_lora","base":"b","model":"m","rank":2,"embed_lora":1})", "embed_lora must be true or false"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.first);
    const Outcome o = run(c.first, files);
    CHECK(o.status == 1);
    REQUIRE(!o.events.empty());
    CHECK(o.events.back()["event"] == "error");
    CHECK(o.events.back()["message"].get<std::string>().find(c.second) != std::string::npos);
    CHECK(!o.outputs_made);
  }
}

// Issue 13's read bound, from the done event's bytes_read: TIES reads a tensor that fits
// the budget once and one that does not at most twice (the bracket's pass, then the
// write); task arithmetic reads it once either way.
TEST_CASE("merge: the done event counts the bytes read; TIES reads each input once when it fits, twice when not") {
  const size_t n = 400000;
  const test::TaskVectorSet set = test::normal_task_vectors(n, 2, 21, [](size_t) { return 0.01; });
  test::MemoryInputs files;
  uint64_t input_bytes = 0;
  auto add = [&](const std::string& name, const std::vector<double>& values) {
    const test::Bytes file = test::safetensors_file({{"w", "BF16", {n}, test::encode("BF16", values)}});
    input_bytes += file.size();
    files.add(name, file);
  };
  add("base.safetensors", set.base);
  add("a.safetensors", set.models[0]);
  add("b.safetensors", set.models[1]);
  for (const std::string method : {"ties", "task_arithmetic"})
    for (int mb : {1024, 4}) {
      const std::string job = R"({"config":{"merge_method":")" + method +
                              R"(","base_model":"base.safetensors","models":[
          {"model":"a.safetensors","parameters":{"weight":0.5,"density":0.3}},
          {"model":"b.safetensors","parameters":{"weight":0.5,"density":0.5}}]},"out_dir":"out","threads":2,"memory_mb":)" +
                              std::to_string(mb) + "}";
      const Outcome o = run(job, files);
      REQUIRE(o.status == 0);
      const json& done = o.events.back();
      REQUIRE(done["event"] == "done");
      const double reads = done["bytes_read"].get<double>() / static_cast<double>(input_bytes);
      INFO(method << " at " << mb << " MB read " << reads << "x the inputs");
      CHECK(reads >= 1.0);  // every byte once, the headers again when planning
      CHECK(reads <= (method == "ties" && mb == 4 ? 2.05 : 1.05));
    }
}
