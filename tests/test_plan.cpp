// The plan: mismatches caught before any tensor byte is read, parameters resolved per
// tensor, the output laid out in shards.
#include <doctest/doctest.h>

#include "support.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/merge.hpp"
#include "wasmerge/plan.hpp"

using namespace wasmerge;
using test::Bytes;

namespace {

Bytes zeros(size_t n) { return Bytes(n, 0); }

test::TestTensor f32(const std::string& name, std::vector<uint64_t> shape) {
  uint64_t n = 1;
  for (auto d : shape) n *= d;
  return {name, "F32", shape, zeros(n * 4)};
}

std::string error_of(test::MemoryInputs& files, const std::string& config, uint64_t shard = 5'000'000'000ull) {
  try {
    make_plan(parse_config(config), files, {shard});
  } catch (const MergeError& e) {
    return e.what();
  }
  FAIL("plan accepted");
  return "";
}

const char* kTaskArithmetic = R"({"merge_method":"task_arithmetic","base_model":"base.safetensors",
  "models":[{"model":"a.safetensors","parameters":{"weight":1}},{"model":"b.safetensors","parameters":{"weight":1}}]})";

}  // namespace

TEST_CASE("plan: a model missing a tensor of the base is named with the tensor") {
  test::MemoryInputs files;
  files.add("base.safetensors", test::safetensors_file({f32("x", {2}), f32("y", {3})}));
  files.add("a.safetensors", test::safetensors_file({f32("x", {2}), f32("y", {3})}));
  files.add("b.safetensors", test::safetensors_file({f32("x", {2})}));
  CHECK(error_of(files, kTaskArithmetic) == "b.safetensors: tensor 'y': missing (it is in base.safetensors)");
}

TEST_CASE("plan: a shape mismatch names both files and both shapes") {
  test::MemoryInputs files;
  files.add("base.safetensors", test::safetensors_file({f32("x", {2, 3})}));
  files.add("a.safetensors", test::safetensors_file({f32("x", {2, 3})}));
  files.add("b.safetensors", test::safetensors_file({f32("x", {3, 2})}));
  CHECK(error_of(files, kTaskArithmetic) ==
        "b.safetensors: tensor 'x': shape [3, 2] differs from [2, 3] in base.safetensors");
}

TEST_CASE("plan: a dtype that cannot be merged with the base's") {
  test::MemoryInputs files;
  files.add("base.safetensors", test::safetensors_file({f32("x", {2})}));
  files.add("a.safetensors", test::safetensors_file({f32("x", {2})}));
  files.add("b.safetensors", test::safetensors_file({{"x", "I32", {2}, zeros(8)}}));
  CHECK(error_of(files, kTaskArithmetic) == "b.safetensors: tensor 'x': dtype I32 cannot be merged with F32 in base.safetensors");
}

TEST_CASE("plan: a model path that is not among the inputs") {
  test::MemoryInputs files;
  files.add("base.safetensors", test::safetensors_file({f32("x", {2})}));
  files.add("a.safetensors", test::safetensors_file({f32("x", {2})}));
  CHECK(error_of(files, kTaskArithmetic).rfind("b.safetensors: not found", 0) == 0);
}

TEST_CASE("plan: weights and densities resolved per tensor from gradients and filters") {
  test::MemoryInputs files;
  std::vector<test::TestTensor> tensors;
  for (int i = 0; i < 3; ++i) {
    tensors.push_back(f32("model.layers." + std::to_string(i) + ".mlp.w", {1}));
    tensors.push_back(f32("model.layers." + std::to_string(i) + ".attn.w", {1}));
  }
  tensors.push_back(f32("lm_head.weight", {1}));
  for (const char* f : {"base.safetensors", "a.safetensors", "b.safetensors"}) files.add(f, test::safetensors_file(tensors));
  const auto plan = make_plan(parse_config(R"({"merge_method":"task_arithmetic","base_model":"base.safetensors",
      "models":[{"model":"a.safetensors","parameters":{"weight":[0.0, 1.0]}},
                {"model":"b.safetensors","parameters":{"weight":[{"filter":"mlp","value":[1.0,3.0]},{"value":-0.5}]}}],
      "parameters":{"lambda":[{"filter":"attn","value":2.0},{"value":1.0}]}})"),
                              files, MergeOptions().out_shard_size);
  auto find = [&](const std::string& name) -> const OutputTensor& {
    for (const auto& o : plan.outputs)
      if (o.info.name == name) return o;
    FAIL("no output " << name);
    return plan.outputs[0];
  };
  CHECK(find("model.layers.0.mlp.w").inputs[0].params.given("weight") == 0.0);
  CHECK(find("model.layers.1.mlp.w").inputs[0].params.given("weight") == 0.5);
  CHECK(find("model.layers.2.mlp.w").inputs[0].params.given("weight") == 1.0);
  CHECK(find("model.layers.1.mlp.w").inputs[1].params.given("weight") == 2.0);
  CHECK(find("model.layers.1.attn.w").inputs[1].params.given("weight") == -0.5);
  CHECK(find("model.layers.1.attn.w").params.given("lambda") == 2.0);
  CHECK(find("model.layers.1.mlp.w").params.given("lambda") == 1.0);
  CHECK(find("lm_head.weight").inputs[0].params.given("weight") == 0.0);  // t = 0 outside layers
  CHECK_FALSE(find("lm_head.weight").params.given("normalize"));  // task_arithmetic's default applies
}

TEST_CASE("plan: shards split before a tensor that would pass the limit; base order kept") {
  test::MemoryInputs files;
  const std::vector<test::TestTensor> tensors = {f32("c", {10}), f32("a", {10}), f32("b", {10}), f32("d", {30})};
  files.add("base.safetensors", test::safetensors_file(tensors));
  files.add("a.safetensors", test::safetensors_file(tensors));
  files.add("b.safetensors", test::safetensors_file(tensors));
  const auto plan = make_plan(parse_config(kTaskArithmetic), files, {90});
  REQUIRE(plan.shard_names.size() == 3);
  CHECK(plan.shard_names[0] == "model-00001-of-00003.safetensors");
  CHECK(plan.outputs[0].info.name == "c");
  CHECK(plan.outputs[0].shard == 0);
  CHECK(plan.outputs[1].shard == 0);
  CHECK(plan.outputs[2].shard == 1);  // 80 + 40 > 90
  CHECK(plan.outputs[3].shard == 2);  // 120 bytes alone: over the limit, in a shard of its own
  CHECK(plan.output_bytes == 240);
}

TEST_CASE("plan: integer tensors pass through; tensors only in a fine-tune are left out with a warning") {
  test::MemoryInputs files;
  files.add("base.safetensors", test::safetensors_file({f32("x", {2}), {"pos", "I64", {2}, zeros(16)}}));
  files.add("a.safetensors", test::safetensors_file({f32("x", {2}), {"pos", "I64", {2}, zeros(16)}, f32("extra", {1})}));
  files.add("b.safetensors", test::safetensors_file({f32("x", {2}), {"pos", "I64", {2}, zeros(16)}}));
  const auto plan = make_plan(parse_config(kTaskArithmetic), files, MergeOptions().out_shard_size);
  CHECK(plan.outputs[1].action == TensorAction::Copy);
  CHECK(plan.outputs[1].copy_from->source->name() == "base.safetensors");
  REQUIRE(plan.warnings.size() == 1);
  CHECK(plan.warnings[0] == "a.safetensors: tensor 'extra': not in base.safetensors; left out of the merge");
}

TEST_CASE("plan: tokenizer_source must be the base or one of the models") {
  test::MemoryInputs files;
  files.add("base.safetensors", test::safetensors_file({f32("x", {2})}));
  files.add("a.safetensors", test::safetensors_file({f32("x", {2})}));
  files.add("b.safetensors", test::safetensors_file({f32("x", {2})}));
  std::string config = kTaskArithmetic;
  config.insert(config.size() - 1, R"(,"tokenizer_source":"c")");
  CHECK(error_of(files, config) == "config: tokenizer_source 'c' is neither 'base' nor one of the models");
}
