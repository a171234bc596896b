// Layer space (SPEC §5): which source tensor each output tensor is, worked out here from
// the slice list alone; config.json's layer count and per-layer lists; the model card's
// layer map; slices under another method; the dry run's sizes; every slice error.
#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "reference.hpp"
#include "support.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/merge.hpp"

using namespace wasmerge;
using test::Bytes;
using json = nlohmann::json;

namespace {

constexpr int kLayers = 6;

// Every tensor of model `model` has its own values: (model, tensor, index) spread apart,
// so an output tensor equal to a source tensor can only be that one.
std::vector<double> values_of(int model, int tensor, size_t n) {
  std::vector<double> v(n);
  // integers below 256 times powers of two: exact in BF16
  for (size_t i = 0; i < n; ++i) v[i] = std::ldexp(model * 64 + tensor + 1, static_cast<int>(i % 4) - 2);
  return v;
}

struct Layout {
  std::vector<std::string> names;  // file order
  std::vector<std::vector<uint64_t>> shapes;
};

Layout layout(bool with_others = true) {
  Layout l;
  auto add = [&](std::string name, std::vector<uint64_t> shape) {
    l.names.push_back(std::move(name));
    l.shapes.push_back(std::move(shape));
  };
  if (with_others) add("model.embed_tokens.weight", {4, 4});
  for (int i = 0; i < kLayers; ++i) {
    add("model.layers." + std::to_string(i) + ".self_attn.q_proj.weight", {4, 4});
    add("model.layers." + std::to_string(i) + ".mlp.up_proj.weight", {2, 4});
  }
  if (with_others) {
    add("model.norm.weight", {4});
    add("lm_head.weight", {4, 4});
  }
  return l;
}

void add_model(test::MemoryInputs& files, const std::string& folder, int model, bool with_others = true) {
  const Layout l = layout(with_others);
  std::vector<test::TestTensor> tensors;
  for (size_t t = 0; t < l.names.size(); ++t) {
    size_t n = 1;
    for (auto d : l.shapes[t]) n *= d;
    tensors.push_back(
        {l.names[t], "BF16", l.shapes[t], test::encode("BF16", values_of(model, static_cast<int>(t), n))});
  }
  files.add(folder + "/model.safetensors", test::safetensors_file(tensors));
  files.add_text(folder + "/config.json",
                 R"({"architectures":["LlamaForCausalLM"],"num_hidden_layers":6,"torch_dtype":"bfloat16",)"
                 R"("layer_types":["l0","l1","l2","l3","l4","l5"],"eos_token_id":[1,2]})");
}

test::MemoryInputs models_ab() {
  test::MemoryInputs files;
  add_model(files, "a", 1);
  add_model(files, "b", 2);
  add_model(files, "base", 0);
  return files;
}

// The tensor `name` of model `model` (1: a, 2: b, 0: base) as add_model wrote it.
std::vector<double> source_values(int model, const std::string& name) {
  const Layout l = layout();
  for (size_t t = 0; t < l.names.size(); ++t)
    if (l.names[t] == name) {
      size_t n = 1;
      for (auto d : l.shapes[t]) n *= d;
      return values_of(model, static_cast<int>(t), n);
    }
  FAIL("no tensor " << name);
  return {};
}

std::string layer(int i, const std::string& part) { return "model.layers." + std::to_string(i) + "." + part; }

test::MemoryOutputs merge(test::MemoryInputs& files, const std::string& config) {
  test::MemoryOutputs out;
  MergeOptions o;
  o.threads = 2;
  run_merge(config, o, files, out);
  return out;
}

// The output's tensor names in file order, from the header.
std::vector<std::string> names_in_order(const Bytes& file) {
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(file[i]) << (8 * i);
  const auto header =
      nlohmann::ordered_json::parse(std::string(file.begin() + 8, file.begin() + 8 + static_cast<long>(n)));
  std::vector<std::pair<uint64_t, std::string>> by_offset;
  for (const auto& [name, t] : header.items())
    if (name != "__metadata__") by_offset.push_back({t["data_offsets"][0].get<uint64_t>(), name});
  std::sort(by_offset.begin(), by_offset.end());
  std::vector<std::string> names;
  for (const auto& [_, name] : by_offset) names.push_back(name);
  return names;
}

std::string error_of(test::MemoryInputs& files, const std::string& config) {
  try {
    merge(files, config);
  } catch (const MergeError& e) {
    return e.what();
  }
  FAIL("merge accepted");
  return "";
}

const char* kDus = R"({"merge_method":"passthrough","dtype":"bfloat16","slices":[
    {"sources":[{"model":"a","layer_range":[0,4]}]},
    {"sources":[{"model":"a","layer_range":[2,6]}]}]})";

}  // namespace

TEST_CASE("slices: SOLAR depth up-scaling stacks [0,4) and [2,6) of one model into 8 layers, bytes unchanged") {
  auto files = models_ab();
  const auto out = merge(files, kDus);
  const Bytes& file = out.committed.at("model.safetensors");
  // Expected, from the slice list: output layer o <- a's layer (o < 4 ? o : o - 4 + 2).
  std::vector<std::pair<std::string, std::string>> expected = {
      {"model.embed_tokens.weight", "model.embed_tokens.weight"}};
  for (int o = 0; o < 8; ++o) {
    const int src = o < 4 ? o : o - 4 + 2;
    for (const char* part : {"self_attn.q_proj.weight", "mlp.up_proj.weight"})
      expected.push_back({layer(o, part), layer(src, part)});
  }
  expected.push_back({"model.norm.weight", "model.norm.weight"});
  expected.push_back({"lm_head.weight", "lm_head.weight"});
  std::vector<std::string> expected_names;
  for (const auto& [o, _] : expected) expected_names.push_back(o);
  CHECK(names_in_order(file) == expected_names);
  const auto decoded = test::decode_file(file);
  for (const auto& pair : expected) {
    INFO(pair.first << " <- a:" << pair.second);
    CHECK(decoded.at(pair.first).values == source_values(1, pair.second));
  }
}

TEST_CASE("slices: config.json gets the layer count and re-indexed per-layer lists; the card the layer map") {
  auto files = models_ab();
  const auto out = merge(files, kDus);
  const auto config = json::parse(out.text("config.json"));
  CHECK(config["num_hidden_layers"] == 8);
  CHECK(config["layer_types"] == json::array({"l0", "l1", "l2", "l3", "l2", "l3", "l4", "l5"}));
  CHECK(config["eos_token_id"] == json::array({1, 2}));  // not a per-layer list
  CHECK(config["torch_dtype"] == "bfloat16");
  const std::string card = out.text("README.md");
  CHECK(card.find("* output layers 0-3 ← a layers 0-3\n* output layers 4-7 ← a layers 2-5\n") != std::string::npos);
  CHECK(card.find("passthrough merge method") != std::string::npos);
}

TEST_CASE("slices: a frankenmerge takes pre-weights from the first slice and post-weights from the last") {
  auto files = models_ab();
  const auto out = merge(files, R"({"merge_method":"passthrough","slices":[
      {"sources":[{"model":"a","layer_range":[0,3]}]},
      {"sources":[{"model":"b","layer_range":[3,6]}]}]})");
  const auto decoded = test::decode_file(out.committed.at("model.safetensors"));
  CHECK(decoded.at("model.embed_tokens.weight").values == source_values(1, "model.embed_tokens.weight"));
  CHECK(decoded.at("model.norm.weight").values == source_values(2, "model.norm.weight"));
  CHECK(decoded.at("lm_head.weight").values == source_values(2, "lm_head.weight"));
  for (int o = 0; o < 6; ++o)
    CHECK(decoded.at(layer(o, "mlp.up_proj.weight")).values ==
          source_values(o < 3 ? 1 : 2, layer(o, "mlp.up_proj.weight")));
  CHECK(json::parse(out.text("config.json"))["num_hidden_layers"] == 6);
}

TEST_CASE("slices: layer removal, and a scale that multiplies (then rounds to the output dtype)") {
  auto files = models_ab();
  const auto out = merge(files, R"({"merge_method":"passthrough","slices":[
      {"sources":[{"model":"a","layer_range":[0,2]}]},
      {"sources":[{"model":"a","layer_range":[4,6],"parameters":{"scale":0.5}}]}]})");
  const auto decoded = test::decode_file(out.committed.at("model.safetensors"));
  CHECK(decoded.size() == 3 + 4 * 2);
  CHECK(decoded.at(layer(1, "mlp.up_proj.weight")).values == source_values(1, layer(1, "mlp.up_proj.weight")));
  auto halved = source_values(1, layer(5, "mlp.up_proj.weight"));
  for (double& v : halved) v *= 0.5;  // exact: a power of two
  CHECK(decoded.at(layer(3, "mlp.up_proj.weight")).values == halved);
  CHECK(json::parse(out.text("config.json"))["layer_types"] == json::array({"l0", "l1", "l4", "l5"}));
}

TEST_CASE("slices under ties: each slice merges its sources, t restarts in every slice") {
  auto files = models_ab();
  const auto out = merge(files, R"({"merge_method":"ties","base_model":"base","dtype":"float32",
      "parameters":{"normalize":false},"slices":[
      {"sources":[{"model":"base","layer_range":[0,3]},
                  {"model":"a","layer_range":[0,3],"parameters":{"weight":[1.0,0.5],"density":0.5}}]},
      {"sources":[{"model":"base","layer_range":[3,6]},
                  {"model":"b","layer_range":[3,6],"parameters":{"weight":[1.0,0.5],"density":0.5}}]}]})");
  const auto decoded = test::decode_file(out.committed.at("model.safetensors"));
  for (int o = 0; o < 6; ++o) {
    const int model = o < 3 ? 1 : 2, j = o % 3;
    const std::string name = layer(o, "self_attn.q_proj.weight");
    test::RefTensorMerge ref;
    ref.method = "ties";
    ref.name = name;
    ref.base = source_values(0, name);
    ref.models = {source_values(model, name)};
    ref.weights = {1.0 - 0.5 * j / 2.0};  // t = j / (3 - 1)
    ref.densities = {0.5};
    INFO(name);
    CHECK(decoded.at(name).values == test::reference_merge(ref));  // exact: one model, dyadic values
  }
  // The post-weights come from the last slice: base and b.
  test::RefTensorMerge ref;
  ref.method = "ties";
  ref.name = "lm_head.weight";
  ref.base = source_values(0, "lm_head.weight");
  ref.models = {source_values(2, "lm_head.weight")};
  ref.weights = {1.0};  // t = 0
  ref.densities = {0.5};
  CHECK(decoded.at("lm_head.weight").values == test::reference_merge(ref));
}

TEST_CASE("slices: the dry run reports the files' exact sizes and the layer map, and writes nothing") {
  auto files = models_ab();
  MergeOptions o;
  const json plan = json::parse(plan_merge(kDus, o, files));
  const auto out = merge(files, kDus);
  REQUIRE(plan["files"].size() == 1);
  CHECK(plan["files"][0]["name"] == "model.safetensors");
  CHECK(plan["files"][0]["bytes"] == out.committed.at("model.safetensors").size());
  CHECK(plan["index"] == false);
  CHECK(plan["layers"]["output"] == 8);
  CHECK(plan["layers"]["map"] == json::parse(R"([{"output":[0,4],"sources":[{"model":"a","layers":[0,4]}]},
                                                  {"output":[4,8],"sources":[{"model":"a","layers":[2,6]}]}])"));
  CHECK(plan["config_edits"]["num_hidden_layers"] == 8);
  CHECK(plan["tensor_count"] == 3 + 8 * 2);
  CHECK(plan["tensors"][1]["name"] == layer(0, "self_attn.q_proj.weight"));
  CHECK(plan["tensors"][9]["sources"][0]["tensor"] == layer(2, "self_attn.q_proj.weight"));  // output layer 4
  CHECK(plan["tensors"][9]["action"] == "copy");
}

TEST_CASE("slices: every error of SPEC §5 names the model and what is wrong, before any tensor is read") {
  auto files = models_ab();
  CHECK(
      error_of(files, R"({"merge_method":"passthrough","slices":[{"sources":[{"model":"a","layer_range":[0,7]}]}]})") ==
      "a: layer_range [0, 7] is outside the model's 6 layers");
  CHECK(
      error_of(files, R"({"merge_method":"passthrough","slices":[{"sources":[{"model":"a","layer_range":[4,2]}]}]})") ==
      "config: model 'a': layer_range [4, 2] must have 0 <= first <= end");
  CHECK(error_of(files, R"({"merge_method":"passthrough","slices":[{"sources":[{"model":"a","layer_range":[0]}]}]})") ==
        "config: model 'a': layer_range must be two integers [first, end)");
  CHECK(error_of(files, R"({"merge_method":"passthrough","slices":[
      {"sources":[{"model":"a","layer_range":[0,2]},{"model":"b","layer_range":[0,2]}]}]})") ==
        "config: passthrough takes exactly 1 model per slice; slice 1 has 2");
  CHECK(error_of(files, R"({"merge_method":"linear","slices":[
      {"sources":[{"model":"a","layer_range":[0,2]},{"model":"b","layer_range":[0,3]}]}]})") ==
        "config: slice 1: its sources span different numbers of layers (a: 2, b: 3)");
  CHECK(error_of(files, R"({"merge_method":"passthrough","models":[{"model":"a"}],
      "slices":[{"sources":[{"model":"a","layer_range":[0,2]}]}]})") ==
        "config: give either models or slices, not both");
  CHECK(error_of(files, R"({"merge_method":"passthrough","slices":[{"sources":[{"model":"c","layer_range":[0,2]}]}]})")
            .rfind("c: not found", 0) == 0);
  CHECK(error_of(files, R"({"merge_method":"ties","base_model":"base","slices":[
      {"sources":[{"model":"a","layer_range":[0,2],"parameters":{"weight":1}}]}]})") ==
        "config: slice 1 has no source from base_model 'base', which ties needs");
  test::MemoryInputs bare;
  add_model(bare, "layers_only", 1, false);
  CHECK(error_of(
            bare,
            R"({"merge_method":"passthrough","slices":[{"sources":[{"model":"layers_only","layer_range":[2,2]}]}]})") ==
        "config: the slices give an empty model: no layers and no other tensors");
}

TEST_CASE("slices: a source whose layer lacks a tensor of the reference's layer is named") {
  test::MemoryInputs files = models_ab();
  const Layout l = layout();
  std::vector<test::TestTensor> tensors;
  for (size_t t = 0; t < l.names.size(); ++t)
    if (l.names[t] != layer(3, "mlp.up_proj.weight"))
      tensors.push_back(
          {l.names[t], "BF16", l.shapes[t],
           test::encode("BF16", values_of(3, static_cast<int>(t),
                                          l.shapes[t][0] * (l.shapes[t].size() > 1 ? l.shapes[t][1] : 1)))});
  files.add("c/model.safetensors", test::safetensors_file(tensors));
  CHECK(error_of(files, R"({"merge_method":"linear","slices":[
      {"sources":[{"model":"a","layer_range":[2,4]},{"model":"c","layer_range":[2,4]}]}]})") ==
        "c: layer 3 has 1 tensors, a layer 3 has 2: the sources of slice 1 need the same tensors");
}
