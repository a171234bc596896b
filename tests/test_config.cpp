// mergekit configs (as JSON, the form the hosts hand over): what is accepted, and the
// message for each thing that is not.
#include <doctest/doctest.h>

#include "wasmerge/config.hpp"
#include "wasmerge/error.hpp"

using namespace wasmerge;

namespace {
std::string error_of(const std::string& json) {
  try {
    parse_config(json);
  } catch (const MergeError& e) {
    return e.what();
  }
  FAIL("config accepted: " << json);
  return "";
}
}  // namespace

TEST_CASE("a full task_arithmetic config") {
  const auto c = parse_config(R"({
    "merge_method": "task_arithmetic", "base_model": "./base",
    "models": [{"model": "./base"}, {"model": "./math", "parameters": {"weight": 1.0}},
               {"model": "./code", "parameters": {"weight": [0.2, 0.8, 1.0], "density": [{"filter": "mlp", "value": 0.3}, {"value": 0.5}]}}],
    "parameters": {"normalize": true, "lambda": 0.5, "int8_mask": true},
    "dtype": "bfloat16", "out_dtype": "float16", "random_seed": 42, "tokenizer_source": "./math"})");
  CHECK(c.method->name() == "task_arithmetic");
  CHECK(c.base_model == "./base");
  REQUIRE(c.slices.size() == 1);  // models: is one slice over every layer
  const auto& models = c.slices[0].sources;
  REQUIRE(models.size() == 2);  // the base listed under models is dropped
  CHECK(models[0].model == "./math");
  CHECK(models[1].parameters.at("weight").values.size() == 3);
  CHECK(models[1].parameters.at("density").filtered.size() == 2);
  REQUIRE(c.warnings.size() == 1);  // task_arithmetic reads no density
  CHECK(c.warnings[0] == "model './code': parameter 'density' is not used by task_arithmetic");
  CHECK(c.parameters.at("lambda").values[0] == 0.5);
  CHECK(c.dtype == DType::BF16);
  CHECK(c.output_dtype(DType::F32) == DType::F16);
  CHECK(c.random_seed == 42);
  CHECK(c.tokenizer_source == "./math");
}

TEST_CASE("defaults: output dtype follows the base tensor; linear needs no weight nor base") {
  const auto c = parse_config(R"({"merge_method":"linear","models":[{"model":"a"},{"model":"b"}]})");
  CHECK(c.output_dtype(DType::F16) == DType::F16);
  CHECK_FALSE(c.base_model.has_value());
  CHECK(c.random_seed == 0);
  auto default_of = [](const char* method, const char* param) {
    return *find_method(method)->param(param)->default_value;
  };
  CHECK(default_of("linear", "normalize") == 1.0);
  CHECK(default_of("task_arithmetic", "normalize") == 0.0);
  CHECK(default_of("ties", "normalize") == 1.0);
  CHECK(default_of("dare_ties", "rescale") == 1.0);
  CHECK(default_of("dare_linear", "rescale") == 1.0);
  CHECK(default_of("ties", "rescale") == 0.0);
}

TEST_CASE("errors: unknown keys, methods, parameters") {
  CHECK(error_of(R"({"merge_method":"linear","models":[{"model":"a"}],"lamda":1})") == "config: unknown key 'lamda'");
  CHECK(error_of(R"({"merge_method":"frankenmerge","models":[{"model":"a"}]})") ==
        "config: unknown merge_method 'frankenmerge' (known: linear, task_arithmetic, ties, dare_linear, dare_ties, "
        "breadcrumbs, breadcrumbs_ties, della, della_linear, sce, arcee_fusion, passthrough)");
  CHECK(error_of(R"({"merge_method":"linear","models":[{"model":"a","parameters":{"wieght":1}}]})") ==
        "config: model 'a' parameters: unknown parameter 'wieght'");
  CHECK(error_of(R"({"merge_method":"linear","models":[{"model":"a","extra":1}]})") ==
        "config: unknown key 'extra' in a models entry");
  CHECK(error_of(R"({"models":[{"model":"a"}]})") == "config: merge_method is missing");
  CHECK(error_of("[1]") == "config: must be a map of keys (merge_method, models, ...)");
  CHECK(error_of("{merge").find("config: not valid JSON") == 0);
}

TEST_CASE("errors: mergekit features not supported yet say so") {
  CHECK(error_of(R"({"merge_method":"slerp","models":[{"model":"a"}]})") ==
        "config: merge_method 'slerp' is not supported yet by wasmerge");
  CHECK(error_of(R"({"merge_method":"linear","slices":[]})") == "config: slices must be a non-empty list");
  CHECK(error_of(R"({"merge_method":"linear","models":[{"model":"a"}],"chat_template":"x"})") ==
        "config: 'chat_template' is not supported yet by wasmerge");
  CHECK(error_of(R"({"merge_method":"linear","models":[{"model":"a"}],"tokenizer_source":"union"})") ==
        "config: tokenizer_source 'union' is not supported yet by wasmerge");
}

TEST_CASE("errors: missing weight, missing base, density out of range, nothing to merge") {
  CHECK(error_of(R"({"merge_method":"task_arithmetic","base_model":"b","models":[{"model":"a"}]})") ==
        "config: model 'a': parameter 'weight' is required by task_arithmetic");
  CHECK(error_of(R"({"merge_method":"ties","models":[{"model":"a","parameters":{"weight":1,"density":0.5}}]})") ==
        "config: ties needs a base_model");
  CHECK(error_of(R"({"merge_method":"ties","base_model":"b","models":[{"model":"a","parameters":{"weight":1,"density":1.5}}]})") ==
        "config: model 'a': density 1.5 is outside (0, 1]");
  CHECK(error_of(R"({"merge_method":"ties","base_model":"b","models":[{"model":"a","parameters":{"weight":1,"density":[{"filter":"mlp","value":0}]}}]})") ==
        "config: model 'a': density 0.0 is outside (0, 1]");
  CHECK(error_of(R"({"merge_method":"linear","base_model":"b","models":[{"model":"b"}]})") ==
        "config: models lists nothing to merge besides the base");
  CHECK(error_of(R"({"merge_method":"linear","models":[{"model":"a"}],"dtype":"int8"})") ==
        "config: dtype must be float32, float16 or bfloat16, not \"int8\"");
  CHECK(error_of(R"({"merge_method":"linear","models":[{"model":"a"}],"random_seed":-1})") ==
        "config: random_seed must be a non-negative integer");
}

TEST_CASE("global weight satisfies the requirement; rescale_mode takes its two spellings") {
  const auto c = parse_config(R"({"merge_method":"dare_ties","base_model":"b","models":[{"model":"a"}],
      "parameters":{"weight":0.5,"density":0.4,"rescale_mode":"inverse_density"}})");
  CHECK(c.parameters.at("rescale_mode").values[0] == 1.0);
  CHECK(error_of(R"({"merge_method":"dare_ties","base_model":"b","models":[{"model":"a"}],
      "parameters":{"weight":0.5,"density":0.4,"rescale_mode":"l2"}})") ==
        "config: parameters: rescale_mode: rescale_mode must be 'l1' or 'inverse_density'");
}
