// The method conformance table: every registered method, each row a config and the
// reference's parameters, run for F32, F16 and BF16 inputs, with 1 and 3 threads and with
// budgets that keep a tensor whole or split it into blocks, natively and (the same suite
// compiled to wasm) under node. All runs of a row must give the same bytes, and each value
// must match the f64 reference of reference.cpp. Inputs sit on a coarse grid and weights
// are dyadic, so δ and ω are exact in f32 and the reference's ordering of |δ| is the
// engine's: what remains is the rounding of divisions, rescale factors and the output dtype.
//
// Adding a method: its reference in reference.cpp and a row in kConformance.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <random>

#include "reference.hpp"
#include "support.hpp"
#include "wasmerge/merge.hpp"
#include "wasmerge/method.hpp"

using namespace wasmerge;
using test::Bytes;
using test::Shape;

namespace {

const std::vector<Shape> kShapes = {{"model.layers.0.mlp.up_proj.weight", {16, 40}},
                                    {"model.layers.0.self_attn.q_proj.weight", {32, 32}},
                                    {"model.layers.1.mlp.up_proj.weight", {16, 40}},
                                    {"model.layers.1.self_attn.q_proj.weight", {32, 32}},
                                    {"model.layers.1.mlp.down_proj.weight", {40, 1024}},  // 2.5 chunks
                                    {"model.norm.weight", {8}},
                                    {"lm_head.weight", {7, 111}}};

double grid_step(const std::string& dtype) {
  return dtype == "BF16" ? 1.0 / 64 : dtype == "F16" ? 1.0 / 256 : 1.0 / 4096;
}

using Model = std::map<std::string, std::vector<double>>;

// base: integers in [-100, 100] times the step; a fine-tune moves each by [-spread, spread] steps.
Model make_model(const std::string& dtype, uint32_t seed, const Model* base, int spread) {
  std::mt19937 rng(seed);
  Model m;
  for (const auto& s : kShapes) {
    std::vector<double> v(s.n());
    for (size_t i = 0; i < v.size(); ++i) {
      const int q = base ? static_cast<int>(rng() % (2 * spread + 1)) - spread : static_cast<int>(rng() % 201) - 100;
      v[i] = (base ? base->at(s.name)[i] : 0.0) + q * grid_step(dtype);
    }
    m[s.name] = v;
  }
  return m;
}

Bytes file_of(const Model& m, const std::string& dtype) { return test::model_file(kShapes, m, dtype); }

struct Case {
  std::string method, dtype = "BF16", extra_json;  // extra_json: more top-level keys
  std::vector<std::string> model_parameters;       // JSON per model
  int spread = 40;
  int shared = 0;          // > 0: the fine-tunes share a common move of this spread (correlated task vectors)
  bool with_base = true;   // for a method whose base is optional: name one
  MergeOptions options;
  // The reference's parameters for one tensor.
  std::function<void(const std::string& tensor, test::RefTensorMerge&)> parameters;
};

// Whether the case's config names a base_model (linear's is named and ignored).
bool uses_base(const Case& c) {
  const MergeMethod* m = find_method(c.method);
  return m->needs_base() || c.method == "linear" || (m->takes_base() && c.with_base);
}

Bytes run_case(const Case& c, const Model& base, const std::vector<Model>& models) {
  test::MemoryInputs files;
  files.add("base.safetensors", file_of(base, c.dtype));
  std::string list;
  for (size_t k = 0; k < models.size(); ++k) {
    const std::string path = "m" + std::to_string(k) + ".safetensors";
    files.add(path, file_of(models[k], c.dtype));
    list += (k ? "," : "") + std::string("{\"model\":\"") + path + "\",\"parameters\":" + c.model_parameters[k] + "}";
  }
  const bool takes_base = uses_base(c);
  const std::string config = "{\"merge_method\":\"" + c.method + "\"" +
                             (takes_base ? ",\"base_model\":\"base.safetensors\"" : "") + ",\"models\":[" + list + "]" +
                             c.extra_json + "}";
  test::MemoryOutputs out;
  MergeOptions options = c.options;
  if (!options.threads) options.threads = 2;
  run_merge(config, options, files, out);
  return out.committed.at("model.safetensors");
}

// Runs the case with 1 thread and the whole tensor in memory, and with 3 threads and the
// smallest budget that holds a chunk of every input (the 40k-element tensor then comes
// in blocks of one chunk); checks the bytes agree and every value against the reference.
void check_case(const Case& c, size_t model_count = 3) {
  const Model base = make_model(c.dtype, 1, nullptr, 0);
  const Model common = c.shared ? make_model(c.dtype, 99, &base, c.shared) : base;
  std::vector<Model> models;
  for (size_t k = 0; k < model_count; ++k)
    models.push_back(make_model(c.dtype, 10 + static_cast<uint32_t>(k), &common, c.spread));
  Case whole = c, split = c;
  whole.options.threads = 1;
  split.options.threads = 3;
  split.options.memory_mb = c.dtype == "F32" ? 2 : 1;
  const Bytes bytes = run_case(whole, base, models);
  REQUIRE(run_case(split, base, models) == bytes);
  const auto decoded = test::decode_file(bytes);
  for (const auto& s : kShapes) {
    test::RefTensorMerge ref;
    ref.method = c.method;
    ref.name = s.name;
    ref.shape = s.dims;
    if (uses_base(c)) ref.base = base.at(s.name);
    for (const auto& m : models) ref.models.push_back(m.at(s.name));
    c.parameters(s.name, ref);
    const auto expected = test::reference_merge(ref);
    const auto& got = decoded.at(s.name).values;
    for (size_t i = 0; i < s.n(); ++i) {
      double scale = std::fabs(base.at(s.name)[i]);
      for (const auto& m : ref.models) scale += std::fabs(m[i]);
      INFO(c.method << " " << c.dtype << " " << s.name << "[" << i << "] got " << got[i] << " expected "
                    << expected[i]);
      REQUIRE(std::fabs(got[i] - expected[i]) <= test::tolerance(c.dtype, expected[i], 64 * scale));
    }
  }
}

// One row of the table: a method's config and the reference's view of it.
struct Row {
  std::string title;
  Case config;  // method, model parameters, extra keys, spread (dtype and options are the runner's)
  size_t models = 3;
};

const std::vector<Row>& conformance_table() {
  static const std::vector<Row> rows = [] {
    std::vector<Row> r;
    auto add = [&](std::string title, std::string method, std::vector<std::string> params, std::string extra,
                   std::function<void(const std::string&, test::RefTensorMerge&)> ref, int spread = 40,
                   size_t models = 3) {
      Case c;
      c.method = std::move(method);
      c.model_parameters = std::move(params);
      c.extra_json = std::move(extra);
      c.parameters = std::move(ref);
      c.spread = spread;
      r.push_back({std::move(title), std::move(c), models});
    };
    add("linear, normalized (default), a gradient weight", "linear",
        {R"({"weight":1.0})", R"({"weight":[0.5,1.5]})", R"({"weight":0.25})"}, "",
        [](const std::string& name, test::RefTensorMerge& r) {
          const double t = name.find("layers.1.") != std::string::npos ? 1.0 : 0.0;
          r.weights = {1.0, 0.5 + t, 0.25};
          r.normalize = true;
        });
    add("task_arithmetic with λ and a filtered weight", "task_arithmetic",
        {R"({"weight":[{"filter":"mlp","value":0.5},{"value":1.0}]})", R"({"weight":-0.25})", R"({"weight":0.75})"},
        R"(,"parameters":{"lambda":0.5})", [](const std::string& name, test::RefTensorMerge& r) {
          r.weights = {name.find("mlp") != std::string::npos ? 0.5 : 1.0, -0.25, 0.75};
          r.lambda = 0.5;
        });
    add("ties, default parameters", "ties",
        {R"({"weight":1.0,"density":0.2})", R"({"weight":0.5,"density":0.5})", R"({"weight":1.25,"density":0.8})"}, "",
        [](const std::string&, test::RefTensorMerge& r) {
          r.weights = {1.0, 0.5, 1.25};
          r.densities = {0.2, 0.5, 0.8};
          r.normalize = true;  // the ties default
        });
    add(
        "ties with heavy ties, a negative weight, per-tensor densities, λ and normalize off", "ties",
        {R"({"weight":1.0,"density":[{"filter":"mlp","value":0.7},{"value":0.3}]})",
         R"({"weight":-0.75,"density":0.3})", R"({"weight":0.5,"density":[0.1,0.9]})"},
        R"(,"parameters":{"lambda":0.75,"normalize":false})",
        [](const std::string& name, test::RefTensorMerge& r) {
          const double t = name.find("layers.1.") != std::string::npos ? 1.0 : 0.0;
          r.weights = {1.0, -0.75, 0.5};
          r.densities = {name.find("mlp") != std::string::npos ? 0.7 : 0.3, 0.3, 0.1 + 0.8 * t};
          r.lambda = 0.75;
          r.normalize = false;
        },
        2);  // deltas in {-2..2} steps: thresholds fall inside long runs of equal |δ|
    add(
        "ties with the L1 rescale", "ties", {R"({"weight":1.0,"density":0.4})", R"({"weight":0.5,"density":0.6})"},
        R"(,"parameters":{"rescale":true})",
        [](const std::string&, test::RefTensorMerge& r) {
          r.weights = {1.0, 0.5};
          r.densities = {0.4, 0.6};
          r.normalize = true;
          r.rescale = true;
        },
        3, 2);
    add("dare_linear with the L1 rescale (default)", "dare_linear",
        {R"({"weight":0.5,"density":0.3})", R"({"weight":0.25,"density":0.6})", R"({"weight":1.0,"density":0.9})"},
        R"(,"random_seed":12345)", [](const std::string&, test::RefTensorMerge& r) {
          r.weights = {0.5, 0.25, 1.0};
          r.densities = {0.3, 0.6, 0.9};
          r.rescale = true;
          r.seed = 12345;
        });
    add("dare_ties with rescale_mode inverse_density, normalize on", "dare_ties",
        {R"({"weight":1.0,"density":0.5})", R"({"weight":-0.5,"density":0.25})", R"({"weight":0.75,"density":0.5})"},
        R"(,"random_seed":7,"parameters":{"rescale_mode":"inverse_density","normalize":true})",
        [](const std::string&, test::RefTensorMerge& r) {
          r.weights = {1.0, -0.5, 0.75};
          r.densities = {0.5, 0.25, 0.5};
          r.rescale = true;
          r.inverse_density = true;
          r.normalize = true;
          r.seed = 7;
        });
    add(
        "dare_ties without rescale, λ 1.5, heavy ties in the sign election", "dare_ties",
        {R"({"weight":1.0,"density":0.7})", R"({"weight":1.0,"density":0.7})", R"({"weight":1.0,"density":0.7})"},
        R"(,"parameters":{"rescale":false,"lambda":1.5})",
        [](const std::string&, test::RefTensorMerge& r) {
          r.weights = {1.0, 1.0, 1.0};
          r.densities = {0.7, 0.7, 0.7};
          r.lambda = 1.5;
        },
        1);
    add(
        "breadcrumbs with heavy ties, per-model gamma and a gradient density, λ", "breadcrumbs",
        {R"({"weight":1.0,"density":0.7,"gamma":0.05})", R"({"weight":0.5,"density":[0.3,0.9]})",
         R"({"weight":-0.25,"density":0.5,"gamma":0.2})"},
        R"(,"parameters":{"lambda":0.75})",
        [](const std::string& name, test::RefTensorMerge& r) {
          const double t = name.find("layers.1.") != std::string::npos ? 1.0 : 0.0;
          r.weights = {1.0, 0.5, -0.25};
          r.densities = {0.7, 0.3 + 0.6 * t, 0.5};
          r.model_params = {{{"gamma", 0.05}}, {}, {{"gamma", 0.2}}};
          r.lambda = 0.75;
        },
        2);  // deltas in {-2..2} steps: both cuts fall inside long runs of equal |δ|
    add(
        "breadcrumbs_ties: outliers cut back to reach the density, normalize and the L1 rescale on", "breadcrumbs_ties",
        {R"({"weight":1.0,"density":0.9,"gamma":0.2})", R"({"weight":0.75,"density":0.4})",
         R"({"weight":0.5,"density":0.6,"gamma":0.0})"},
        R"(,"parameters":{"normalize":true,"rescale":true})",
        [](const std::string&, test::RefTensorMerge& r) {
          r.weights = {1.0, 0.75, 0.5};
          r.densities = {0.9, 0.4, 0.6};
          r.model_params = {{{"gamma", 0.2}}, {}, {{"gamma", 0.0}}};
          r.normalize = true;
          r.rescale = true;
        },
        3);
    add("della, default epsilon and a per-model one, a seed", "della",
        {R"({"weight":1.0,"density":0.5})", R"({"weight":0.5,"density":0.3,"epsilon":0.1})",
         R"({"weight":0.75,"density":0.7,"epsilon":0.25})"},
        R"(,"random_seed":99)", [](const std::string&, test::RefTensorMerge& r) {
          r.weights = {1.0, 0.5, 0.75};
          r.densities = {0.5, 0.3, 0.7};
          r.model_params = {{}, {{"epsilon", 0.1}}, {{"epsilon", 0.25}}};
          r.normalize = true;
          r.rescale = true;
          r.seed = 99;
        });
    add(
        "della_linear with a gradient epsilon, λ, heavy ties in the ranks", "della_linear",
        {R"({"weight":0.5,"density":0.4,"epsilon":[0.05,0.3]})", R"({"weight":1.0,"density":0.6})"},
        R"(,"parameters":{"lambda":1.25})",
        [](const std::string& name, test::RefTensorMerge& r) {
          const double t = name.find("layers.1.") != std::string::npos ? 1.0 : 0.0;
          r.weights = {0.5, 1.0};
          r.densities = {0.4, 0.6};
          r.model_params = {{{"epsilon", 0.05 + 0.25 * t}}, {}};
          r.lambda = 1.25;
          r.rescale = true;
        },
        2, 2);
    add("sce, every entry selected (the default)", "sce", {"{}", "{}", "{}"}, "",
        [](const std::string&, test::RefTensorMerge&) {});
    add(
        "sce with select_topk 0.3 and heavy ties in the variance", "sce", {"{}", "{}", "{}"},
        R"(,"parameters":{"select_topk":0.3})",
        [](const std::string&, test::RefTensorMerge& r) { r.params["select_topk"] = 0.3; }, 2);
    add(
        "sce with a gradient select_topk, two models", "sce", {"{}", "{}"},
        R"(,"parameters":{"select_topk":[0.05,0.6]})",
        [](const std::string& name, test::RefTensorMerge& r) {
          const double t = name.find("layers.1.") != std::string::npos ? 1.0 : 0.0;
          r.params["select_topk"] = 0.05 + 0.55 * t;
        },
        40, 2);
    add(
        "arcee_fusion", "arcee_fusion", {"{}"}, "", [](const std::string&, test::RefTensorMerge&) {}, 40, 1);
    add(
        "arcee_fusion with small changes (many equal importances)", "arcee_fusion", {"{}"}, "",
        [](const std::string&, test::RefTensorMerge&) {}, 2, 1);
    add(
        "passthrough with a gradient scale", "passthrough", {R"({"scale":[0.5,2.0]})"}, "",
        [](const std::string& name, test::RefTensorMerge& r) {
          const double t = name.find("layers.1.") != std::string::npos ? 1.0 : 0.0;
          r.scales = {0.5 + 1.5 * t};
        },
        40, 1);
    // SPEC §6's geometric methods and nearswap.
    auto t_of = [](const std::string& name) { return name.find("layers.1.") != std::string::npos ? 1.0 : 0.0; };
    auto same = [](std::map<std::string, double> params) {
      return [params](const std::string&, test::RefTensorMerge& r) { r.params = params; };
    };
    add("slerp at t 0.3", "slerp", {"{}"}, R"(,"parameters":{"t":0.3})", same({{"t", 0.3}}), 40, 1);
    add(
        "slerp with mergekit's usual t: gradients under filters", "slerp", {"{}"},
        R"(,"parameters":{"t":[{"filter":"self_attn","value":[0.2,0.6,0.9]},{"filter":"mlp","value":[0.7,0.1]},{"value":0.5}]})",
        [t_of](const std::string& name, test::RefTensorMerge& r) {
          const double pos = t_of(name);
          r.params["t"] = name.find("self_attn") != std::string::npos ? (pos ? 0.9 : 0.2)
                          : name.find("mlp") != std::string::npos     ? (pos ? 0.1 : 0.7)
                                                                      : 0.5;
        },
        40, 1);
    // cos ≈ 0.9997: the lerp branch; extrapolating to t = 2.5 makes it differ from the arc.
    add("slerp of nearly parallel tensors falls back to lerp", "slerp", {"{}"}, R"(,"parameters":{"t":2.5})",
        same({{"t", 2.5}}), 2, 1);
    add("nuslerp of task vectors, flattened (default)", "nuslerp", {R"({"weight":0.25})", R"({"weight":0.75})"}, "",
        [](const std::string&, test::RefTensorMerge& r) { r.weights = {0.25, 0.75}; }, 40, 2);
    add("nuslerp per column (row_wise), of task vectors", "nuslerp", {R"({"weight":1.0})", R"({"weight":0.5})"},
        R"(,"parameters":{"nuslerp_flatten":false,"nuslerp_row_wise":true})",
        [](const std::string&, test::RefTensorMerge& r) {
          r.weights = {1.0, 0.5};
          r.params = {{"nuslerp_flatten", 0}, {"nuslerp_row_wise", 1}};
        },
        40, 2);
    add("multislerp of three task vectors", "multislerp",
        {R"({"weight":0.5})", R"({"weight":[0.25,1.0]})", R"({"weight":0.75})"}, "",
        [t_of](const std::string& name, test::RefTensorMerge& r) { r.weights = {0.5, 0.25 + 0.75 * t_of(name), 0.75}; },
        150);  // far apart: the tangent step matters (|q| ≤ 250 stays exact in BF16)
    add("karcher of the base and two models, 3 iterations", "karcher", {"{}", "{}"},
        R"(,"parameters":{"max_iter":3})", same({{"max_iter", 3}}), 150, 2);  // far apart: not converged in 3
    add("model_stock of correlated fine-tunes", "model_stock", {"{}", "{}", "{}"}, "",
        same({}));
    add("model_stock filter_wise", "model_stock", {"{}", "{}"}, R"(,"parameters":{"filter_wise":true})",
        same({{"filter_wise", 1}}), 20, 2);
    add("nearswap at t 0.1", "nearswap", {"{}"}, R"(,"parameters":{"t":0.1})", same({{"t", 0.1}}), 40, 1);
    for (Row& row : r)
      if (row.config.method == "model_stock") row.config.shared = 40;  // else cos ≈ 0 and t ≈ 0
    // Optional bases left out: the models' own vectors.
    add("nuslerp per row, no base", "nuslerp", {R"({"weight":2.0})", R"({"weight":1.0})"},
        R"(,"parameters":{"nuslerp_flatten":false})",
        [](const std::string&, test::RefTensorMerge& r) {
          r.weights = {2.0, 1.0};
          r.params = {{"nuslerp_flatten", 0}};
        },
        40, 2);
    add("multislerp of three models, no base, weights not normalized", "multislerp",
        {R"({"weight":0.5})", R"({"weight":0.3})", R"({"weight":0.2})"}, R"(,"parameters":{"normalize_weights":false})",
        [](const std::string&, test::RefTensorMerge& r) {
          r.weights = {0.5, 0.3, 0.2};
          r.params = {{"normalize_weights", 0}};
        });
    add("karcher of three models, no base", "karcher", {"{}", "{}", "{}"}, "", same({}), 150);
    for (size_t i = r.size() - 3; i < r.size(); ++i) r[i].config.with_base = false;
    return r;
  }();
  return rows;
}

}  // namespace

TEST_CASE("conformance: every method's rows match its reference in every dtype, thread count and budget") {
  for (const Row& row : conformance_table())
    for (const std::string dtype : {"F32", "F16", "BF16"}) {
      Case c = row.config;
      c.dtype = dtype;
      INFO(row.title << " (" << dtype << ")");
      check_case(c, row.models);
    }
}

TEST_CASE("conformance: every registered method has a row and a reference") {
  for (const MergeMethod* m : all_methods()) {
    const std::string name(m->name());
    INFO(name);
    CHECK(test::references().count(name) == 1);
    CHECK(std::any_of(conformance_table().begin(), conformance_table().end(),
                      [&](const Row& r) { return r.config.method == name; }));
  }
}

TEST_CASE("ties on a tensor so small that floor(d·n) = 0 keeps the base") {
  Case c;
  c.method = "ties";
  c.model_parameters = {R"({"weight":1.0,"density":0.1})", R"({"weight":1.0,"density":0.1})"};
  c.parameters = [](const std::string&, test::RefTensorMerge& r) {
    r.weights = {1.0, 1.0};
    r.densities = {0.1, 0.1};
    r.normalize = true;
  };
  check_case(c, 2);
  // model.norm.weight has 8 entries: floor(0.1·8) = 0, so the output is the base there.
  const Model base = make_model("BF16", 1, nullptr, 0);
  const auto out =
      test::decode_file(run_case(c, base, {make_model("BF16", 10, &base, 40), make_model("BF16", 11, &base, 40)}));
  CHECK(out.at("model.norm.weight").values == base.at("model.norm.weight"));
}

TEST_CASE("the DARE mask depends on the seed: two seeds, two merges") {
  Case c;
  c.method = "dare_linear";
  c.model_parameters = {R"({"weight":1.0,"density":0.5})"};
  const Model base = make_model("BF16", 1, nullptr, 0);
  const std::vector<Model> models = {make_model("BF16", 10, &base, 40)};
  c.extra_json = R"(,"random_seed":1)";
  const Bytes a = run_case(c, base, models);
  c.extra_json = R"(,"random_seed":2)";
  const Bytes b = run_case(c, base, models);
  c.options.random_seed = 1;  // the CLI's --random-seed overrides the config
  const Bytes a_again = run_case(c, base, models);
  CHECK(a != b);
  CHECK(a == a_again);
}

TEST_CASE("ties and dare_ties: same bytes for 1 and 3 threads and for budgets that split the tensor") {
  // A 300k-element tensor with heavy ties: the cut's ties straddle block boundaries
  // when the budget is 1 MB (about 7 blocks), and it is read once at 1024 MB.
  const size_t n = 300000;
  std::mt19937 rng(3);
  std::vector<double> base(n);
  std::vector<std::vector<double>> models(3, std::vector<double>(n));
  for (size_t i = 0; i < n; ++i) {
    base[i] = (static_cast<int>(rng() % 201) - 100) / 64.0;
    for (auto& m : models) m[i] = base[i] + (static_cast<int>(rng() % 5) - 2) / 64.0;
  }
  test::MemoryInputs files;
  files.add("base.safetensors", test::safetensors_file({{"w", "BF16", {n}, test::encode("BF16", base)}}));
  for (size_t k = 0; k < 3; ++k)
    files.add("m" + std::to_string(k) + ".safetensors",
              test::safetensors_file({{"w", "BF16", {n}, test::encode("BF16", models[k])}}));
  for (const std::string method : {"ties", "dare_ties"}) {
    const std::string config = R"({"merge_method":")" + method + R"(","base_model":"base.safetensors","models":[
        {"model":"m0.safetensors","parameters":{"weight":1.0,"density":0.3}},
        {"model":"m1.safetensors","parameters":{"weight":0.5,"density":0.45}},
        {"model":"m2.safetensors","parameters":{"weight":-0.25,"density":0.6}}]})";
    std::vector<Bytes> outputs;
    for (unsigned threads : {1u, 3u})
      for (uint64_t mb : {1u, 1024u}) {
        test::MemoryOutputs out;
        MergeOptions o;
        o.threads = threads;
        o.memory_mb = mb;
        run_merge(config, o, files, out);
        outputs.push_back(out.committed.at("model.safetensors"));
      }
    for (const auto& o : outputs) REQUIRE(o == outputs[0]);
    test::RefTensorMerge ref;
    ref.method = method;
    ref.name = "w";
    ref.base = base;
    ref.models = models;
    ref.weights = {1.0, 0.5, -0.25};
    ref.densities = {0.3, 0.45, 0.6};
    ref.normalize = method == "ties";
    ref.rescale = method == "dare_ties";
    const auto expected = test::reference_merge(ref);
    const auto got = test::decode_file(outputs[0]).at("w").values;
    for (size_t i = 0; i < n; ++i) {
      INFO(method << " [" << i << "] got " << got[i] << " expected " << expected[i]);
      REQUIRE(std::fabs(got[i] - expected[i]) <= test::tolerance("BF16", expected[i], 64 * 8));
    }
  }
}

TEST_CASE("ties: when the sampled bracket overflows its memory, the radix fallback gives the reference's merge") {
  // Distinct f32 task vectors: at 1 MB the bracket of a one-chunk sample holds more
  // entries than the collection may keep, and the cut comes from the two radix tallies;
  // at 1024 MB the bracket's pass finds it. Both must be the reference's merge.
  const size_t n = 200000;
  const test::TaskVectorSet set = test::normal_task_vectors(n, 2, 12, [](size_t i) { return i < 50000 ? 1e-4 : 1e-1; });
  test::MemoryInputs files;
  files.add("base.safetensors", test::safetensors_file({{"w", "F32", {n}, test::encode("F32", set.base)}}));
  for (size_t k = 0; k < 2; ++k)
    files.add("m" + std::to_string(k) + ".safetensors",
              test::safetensors_file({{"w", "F32", {n}, test::encode("F32", set.models[k])}}));
  const std::string config = R"({"merge_method":"ties","base_model":"base.safetensors","models":[
      {"model":"m0.safetensors","parameters":{"weight":1.0,"density":0.3}},
      {"model":"m1.safetensors","parameters":{"weight":0.5,"density":0.2}}]})";
  test::RefTensorMerge ref;
  ref.method = "ties";
  ref.name = "w";
  ref.base = set.base;
  ref.models = set.models;
  ref.weights = {1.0, 0.5};
  ref.densities = {0.3, 0.2};
  ref.normalize = true;
  const auto expected = test::reference_merge(ref);
  for (uint64_t mb : {1u, 1024u}) {
    test::MemoryOutputs out;
    MergeOptions o;
    o.threads = 2;
    o.memory_mb = mb;
    run_merge(config, o, files, out);
    const auto got = test::decode_file(out.committed.at("model.safetensors")).at("w").values;
    for (size_t i = 0; i < n; ++i) {
      INFO(mb << " MB [" << i << "] got " << got[i] << " expected " << expected[i]);
      REQUIRE(std::fabs(got[i] - expected[i]) <= test::tolerance("F32", expected[i], 64 * 8));
    }
  }
}
