// SPEC §6's geometric methods beyond the conformance table: tensors larger than the budget
// (the Gram pass reads them again for the write), the guards (zero norms, the lerp
// fallback, model_stock's singular case), their kernel, and their config errors.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "math/deterministic_math.hpp"
#include "one_tensor.hpp"
#include "reference.hpp"
#include "support.hpp"
#include "wasmerge/config.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/kernels.hpp"
#include "wasmerge/merge.hpp"

using namespace wasmerge;
using test::Bytes;

namespace {

using test::OneTensor;

// The config's global parameters (a JSON map, or none).
std::string with_parameters(const std::string& params) { return params.empty() ? "" : R"(,"parameters":)" + params; }

std::string config_of(const std::string& method, bool base, const std::vector<std::string>& model_params,
                      const std::string& params) {
  return test::config_of(method, model_params, with_parameters(params), base);
}

}  // namespace

TEST_CASE("dot_sum equals its scalar twin bit for bit and the plain f64 sum closely") {
  std::mt19937 rng(17);
  std::normal_distribution<float> normal;
  for (size_t n : {0, 1, 7, 8, 9, 15, 16, 17, 1000, 16384}) {
    std::vector<float> x(n), y(n);
    for (size_t i = 0; i < n; ++i) {
      x[i] = normal(rng) * std::exp2(static_cast<float>(rng() % 20) - 10);
      y[i] = normal(rng);
    }
    const double vec = dot_sum(x.data(), y.data(), n), ref = scalar::dot_sum(x.data(), y.data(), n);
    REQUIRE(std::memcmp(&vec, &ref, 8) == 0);
    double plain = 0, magnitude = 0;
    for (size_t i = 0; i < n; ++i) {
      plain += static_cast<double>(x[i]) * y[i];
      magnitude += std::fabs(static_cast<double>(x[i]) * y[i]);
    }
    REQUIRE(std::fabs(vec - plain) <= 1e-12 * magnitude);
  }
  const float a[] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, b[] = {1, -1, 1, -1, 1, -1, 1, -1, 0.5f};
  CHECK(scalar::dot_sum(a, b, 9) == -4 + 4.5);
}

TEST_CASE(
    "geometric methods on a tensor larger than the budget: same bytes for 1 and 3 threads, 1 MB and 1 GB, "
    "and the reference's values") {
  // 300 × 1000 elements in 19 chunks; at 1 MB the Gram pass and the write each read it in blocks.
  OneTensor t = test::grid_tensor(300, 1000, 3, 150, 5);
  struct Run {
    std::string method;
    bool base;
    std::vector<std::string> model_params;
    std::string params;
    std::function<void(test::RefTensorMerge&)> ref;
  };
  const std::vector<Run> runs = {
      {"slerp",
       true,
       {"{}"},
       R"({"t":0.4})",
       [](test::RefTensorMerge& r) {
         r.params = {{"t", 0.4}};
       }},
      {"nuslerp",
       true,
       {R"({"weight":1})", R"({"weight":3})"},
       R"({"nuslerp_flatten":false})",
       [](test::RefTensorMerge& r) {
         r.weights = {1, 3};
         r.params = {{"nuslerp_flatten", 0}};
       }},
      {"nuslerp",
       false,
       {R"({"weight":1})", R"({"weight":1})"},
       R"({"nuslerp_flatten":false,"nuslerp_row_wise":true})",
       [](test::RefTensorMerge& r) {
         r.weights = {1, 1};
         r.params = {{"nuslerp_flatten", 0}, {"nuslerp_row_wise", 1}};
       }},
      {"multislerp",
       true,
       {R"({"weight":1})", R"({"weight":2})", R"({"weight":1})"},
       "",
       [](test::RefTensorMerge& r) {
         r.weights = {1, 2, 1};
       }},
      {"karcher",
       false,
       {"{}", "{}", "{}"},
       R"({"max_iter":4})",
       [](test::RefTensorMerge& r) {
         r.params = {{"max_iter", 4}};
       }},
      {"model_stock",
       true,
       {"{}", "{}", "{}"},
       R"({"filter_wise":true})",
       [](test::RefTensorMerge& r) {
         r.params = {{"filter_wise", 1}};
       }},
  };
  for (const Run& run : runs) {
    OneTensor inputs = t;
    inputs.models.resize(run.model_params.size());
    const std::string config = config_of(run.method, run.base, run.model_params, run.params);
    INFO(config);
    test::RefTensorMerge ref;
    ref.method = run.method;
    run.ref(ref);
    test::check_everywhere(config, inputs, ref, run.base);
  }
}

TEST_CASE("slerp: a base of zeros keeps its zero direction (norm guard), so the result is sin(tπ/2)·m") {
  OneTensor t = test::grid_tensor(4, 8, 1, 40, 9);
  std::fill(t.base.begin(), t.base.end(), 0.0);
  test::MemoryInputs files = test::files_of(t);
  const auto got =
      test::decode_file(test::merge(config_of("slerp", true, {"{}"}, R"({"t":0.5})"), files)).at("w").values;
  for (size_t i = 0; i < got.size(); ++i) {
    const double expected = std::sin(0.25 * M_PI) * t.models[0][i];  // θ = π/2: sin(tθ)/sin θ
    REQUIRE(std::fabs(got[i] - expected) <= test::tolerance("BF16", expected, std::fabs(t.models[0][i])));
  }
}

TEST_CASE("model_stock: task vectors at cos −1 make t's denominator 0: an error naming the tensor, nothing written") {
  OneTensor t = test::grid_tensor(4, 8, 2, 40, 11);
  for (size_t i = 0; i < t.base.size(); ++i) t.models[1][i] = 2 * t.base[i] - t.models[0][i];  // δ_1 = −δ_0
  test::MemoryInputs files = test::files_of(t);
  test::MemoryOutputs out;
  CHECK_THROWS_WITH(run_merge(config_of("model_stock", true, {"{}", "{}"}, ""), MergeOptions(), files, out),
                    doctest::Contains("tensor 'w': model_stock: the task vectors' mean cosine is −1/(N−1)"));
  CHECK(out.committed.empty());
}

TEST_CASE("multislerp: weights that sum to zero cannot be normalized: an error naming the tensor") {
  const OneTensor t = test::grid_tensor(4, 8, 2, 40, 13);
  test::MemoryInputs files = test::files_of(t);
  test::MemoryOutputs out;
  CHECK_THROWS_WITH(
      run_merge(config_of("multislerp", true, {R"({"weight":1})", R"({"weight":-1})"}, ""), MergeOptions(), files, out),
      doctest::Contains("tensor 'w': multislerp: the weights sum to 0"));
  CHECK(out.committed.empty());
}

TEST_CASE("geometric methods' config errors: model counts, a missing t, a bad eps") {
  auto error_of = [](const std::string& json) -> std::string {
    try {
      parse_config(json);
    } catch (const MergeError& e) {
      return e.what();
    }
    return "accepted";
  };
  CHECK(error_of(config_of("slerp", true, {"{}", "{}", "{}"}, R"({"t":0.5})")) ==
        "config: slerp takes exactly 1 model besides base_model, not 3");
  CHECK(error_of(config_of("slerp", true, {"{}"}, "")) ==
        "config: parameter 't' is required by slerp (under parameters:)");
  CHECK(error_of(config_of("slerp", false, {"{}"}, R"({"t":0.5})")) == "config: slerp needs a base_model");
  CHECK(error_of(config_of("nuslerp", false, {R"({"weight":1})"}, "")) ==
        "config: nuslerp takes exactly 2 models, not 1");
  CHECK(error_of(config_of("nearswap", true, {"{}"}, "")) ==
        "config: parameter 't' is required by nearswap (under parameters:)");
  CHECK(error_of(config_of("model_stock", true, {"{}"}, "")) ==
        "config: model_stock takes at least 2 models besides base_model, not 1");
  CHECK(error_of(config_of("multislerp", false, {R"({"weight":1})"}, R"({"eps":0})")).find("eps") != std::string::npos);
  // mergekit's common form: the base also listed among the models, which it then skips.
  CHECK(
      error_of(
          R"({"merge_method":"slerp","base_model":"a","models":[{"model":"a"},{"model":"b"}],"parameters":{"t":0.5}})") ==
      "accepted");
}

TEST_CASE("multislerp: task vectors that are all zero give the base (mergekit refuses it); opposite ones an error") {
  OneTensor t = test::grid_tensor(4, 8, 3, 40, 15);
  for (auto& m : t.models) m = t.base;
  test::MemoryInputs files = test::files_of(t);
  const std::string config =
      config_of("multislerp", true, {R"({"weight":1})", R"({"weight":1})", R"({"weight":1})"}, "");
  CHECK(test::decode_file(test::merge(config, files)).at("w").values == t.base);
  // δ_0 = −δ_1 with equal weights and δ_2 = 0: the directions cancel out.
  for (size_t i = 0; i < t.base.size(); ++i) t.models[1][i] = 2 * t.base[i] - (t.models[0][i] = t.base[i] + 0.25);
  test::MemoryInputs opposite = test::files_of(t);
  CHECK_THROWS_WITH(test::merge(config, opposite), doctest::Contains("multislerp: the weighted directions"));
}

TEST_CASE("deterministic sin, cos and acos agree with the C library to a few units in the last place") {
  double worst = 0;
  for (int i = -20000; i <= 20000; ++i) {
    const double x = i * 0.000731;  // [−14.6, 14.6]: every angle a spherical method forms
    worst = std::max(worst, std::fabs(deterministic_sin(x) - std::sin(x)));
    worst = std::max(worst, std::fabs(deterministic_cos(x) - std::cos(x)));
  }
  for (int i = -10000; i <= 10000; ++i) {
    const double x = i / 10000.0;
    worst = std::max(worst, std::fabs(deterministic_acos(x) - std::acos(x)));
  }
  CHECK(worst < 2e-15);
  for (double x : {1.0 - 1e-12, 1.0 - 1e-15, -1.0 + 1e-12})  // near ±1 the angle is tiny or near π: relative error
    CHECK(std::fabs(deterministic_acos(x) / std::acos(x) - 1) < 1e-14);
  CHECK(deterministic_sin(0.0) == 0.0);
  CHECK(deterministic_cos(0.0) == 1.0);
  CHECK(deterministic_acos(1.0) == 0.0);
  CHECK(deterministic_acos(-1.0) == M_PI);
  CHECK(std::fabs(deterministic_acos(0.0) - M_PI / 2) < 1e-16);
  CHECK(std::isnan(deterministic_acos(1.5)));
}
