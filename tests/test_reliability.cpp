// Inputs users really have: NaN and infinity in a tensor, fine-tunes whose vocabulary grew.
#include <doctest/doctest.h>

#include <cmath>

#include "support.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/merge.hpp"

using namespace wasmerge;
using test::Bytes;

namespace {

const char* kConfig = R"({"merge_method":"task_arithmetic","base_model":"base.safetensors","models":[
    {"model":"a.safetensors","parameters":{"weight":0.5}},{"model":"b.safetensors","parameters":{"weight":0.5}}]EXTRA})";

std::string config(const std::string& extra = "") {
  std::string c = kConfig;
  c.replace(c.find("EXTRA"), 5, extra);
  return c;
}

test::MemoryInputs three_models(const std::string& dtype, const std::vector<double>& b_values) {
  test::MemoryInputs files;
  const std::vector<double> ones(b_values.size(), 1.0), twos(b_values.size(), 2.0);
  files.add("base.safetensors", test::safetensors_file({{"w", dtype, {b_values.size()}, test::encode(dtype, ones)}}));
  files.add("a.safetensors", test::safetensors_file({{"w", dtype, {b_values.size()}, test::encode(dtype, twos)}}));
  files.add("b.safetensors", test::safetensors_file({{"w", dtype, {b_values.size()}, test::encode(dtype, b_values)}}));
  return files;
}

}  // namespace

TEST_CASE("NaN or infinity in an input is an error naming the file, the tensor and the first index") {
  for (const std::string dtype : {"F32", "F16", "BF16", "F64"}) {
    std::vector<double> values(40000, 1.0);
    values[33000] = INFINITY;
    values[35000] = NAN;
    auto files = three_models(dtype, values);
    test::MemoryOutputs out;
    MergeOptions o;
    o.memory_mb = 2;  // several blocks: the first bad index is still the one reported
    CHECK_THROWS_WITH(run_merge(config(), o, files, out),
                      "b.safetensors: tensor 'w': infinity at index 33000 (allow_nonfinite: true merges it anyway)");
    CHECK(out.committed.empty());
    values[20000] = NAN;
    files = three_models(dtype, values);
    CHECK_THROWS_WITH(run_merge(config(), o, files, out),
                      "b.safetensors: tensor 'w': NaN at index 20000 (allow_nonfinite: true merges it anyway)");
  }
}

TEST_CASE("Of two inputs with NaN or infinity, the first source's first in the first bad block is reported") {
  // a has a NaN in a later chunk than b's infinity, in the same block (the default budget)
  // or not (2 MB: blocks of two chunks). Whichever thread found which, in one pass (task
  // arithmetic) or in the first of several over a cached tensor (TIES' scan, DARE's L1
  // norms), the same one.
  std::vector<double> a_values(100000, 2.0), b_values(100000, 1.0);
  a_values[60000] = NAN;
  b_values[100] = INFINITY;
  test::MemoryInputs files;
  const std::vector<double> ones(a_values.size(), 1.0);
  files.add("base.safetensors", test::safetensors_file({{"w", "F32", {ones.size()}, test::encode("F32", ones)}}));
  files.add("a.safetensors", test::safetensors_file({{"w", "F32", {a_values.size()}, test::encode("F32", a_values)}}));
  files.add("b.safetensors", test::safetensors_file({{"w", "F32", {b_values.size()}, test::encode("F32", b_values)}}));
  for (const std::string method : {"task_arithmetic", "ties", "dare_ties"})
    for (const unsigned threads : {1u, 3u}) {
      CAPTURE(method);
      CAPTURE(threads);
      std::string text = config();
      text.replace(text.find("task_arithmetic"), 15, method);
      if (method != "task_arithmetic")
        for (size_t at = text.find("\"weight\""); at != std::string::npos; at = text.find("\"weight\"", at + 20))
          text.insert(at, "\"density\":0.5,");
      MergeOptions o;
      o.threads = threads;
      test::MemoryOutputs out;
      CHECK_THROWS_WITH(run_merge(text, o, files, out),
                        "a.safetensors: tensor 'w': NaN at index 60000 (allow_nonfinite: true merges it anyway)");
      o.memory_mb = 2;
      CHECK_THROWS_WITH(run_merge(text, o, files, out),
                        "b.safetensors: tensor 'w': infinity at index 100 (allow_nonfinite: true merges it anyway)");
      CHECK(out.committed.empty());
    }
}

// TIES' first pass finds NaN and infinity through its scan of every |δ| when it scans
// every model, and DARE's through its L1 norms: one in the base shows in every δ; a δ
// that overflows from finite inputs is flagged but must not fail. A model TIES does not
// scan (density 1) is checked as usual.
TEST_CASE("TIES' scan of |δ| finds NaN in the base, in a model it does not scan, and not in an overflow") {
  const size_t n = 100000;  // several chunks: the bracket's pass
  auto ties_files = [&](const std::vector<double>& base, const std::vector<double>& a) {
    test::MemoryInputs files;
    const std::vector<double> b(n, 0.5);
    files.add("base.safetensors", test::safetensors_file({{"w", "F32", {n}, test::encode("F32", base)}}));
    files.add("a.safetensors", test::safetensors_file({{"w", "F32", {n}, test::encode("F32", a)}}));
    files.add("b.safetensors", test::safetensors_file({{"w", "F32", {n}, test::encode("F32", b)}}));
    return files;
  };
  auto ties = [](double density_a) {
    return R"({"merge_method":"ties","base_model":"base.safetensors","models":[
      {"model":"a.safetensors","parameters":{"weight":0.5,"density":)" + std::to_string(density_a) + R"(}},
      {"model":"b.safetensors","parameters":{"weight":0.5,"density":0.5}}]})";
  };
  std::vector<double> base(n), a(n);
  for (size_t i = 0; i < n; ++i) {
    base[i] = static_cast<double>(i % 97) / 64;
    a[i] = static_cast<double>(i % 89) / 32;
  }
  for (const unsigned threads : {1u, 3u}) {
    CAPTURE(threads);
    MergeOptions o;
    o.threads = threads;
    test::MemoryOutputs out;
    std::vector<double> bad_base = base;
    bad_base[70000] = NAN;
    auto files = ties_files(bad_base, a);
    for (const std::string method : {"ties", "dare_ties"}) {
      std::string text = ties(0.5);
      text.replace(text.find("ties"), 4, method);
      CHECK_THROWS_WITH(run_merge(text, o, files, out),
                        "base.safetensors: tensor 'w': NaN at index 70000 (allow_nonfinite: true merges it anyway)");
    }
    std::vector<double> bad_a = a;
    bad_a[50000] = -INFINITY;
    files = ties_files(base, bad_a);
    CHECK_THROWS_WITH(run_merge(ties(1.0), o, files, out),
                      "a.safetensors: tensor 'w': infinity at index 50000 (allow_nonfinite: true merges it anyway)");
    CHECK(out.committed.empty());
    std::vector<double> far_base = base, far_a = a;  // 3e38 − (−3e38) overflows to +inf
    far_base[40000] = -3e38;
    far_a[40000] = 3e38;
    files = ties_files(far_base, far_a);
    run_merge(ties(0.5), o, files, out);
    const auto w = test::decode_file(out.committed.at("model.safetensors")).at("w").values;
    CHECK(w[40000] == INFINITY);
    CHECK(std::isfinite(w[39999]));
  }
}

TEST_CASE("allow_nonfinite: true merges NaN through") {
  std::vector<double> values(100, 1.0);
  values[7] = NAN;
  auto files = three_models("F32", values);
  test::MemoryOutputs out;
  run_merge(config(R"(,"allow_nonfinite":true)"), {}, files, out);
  const auto w = test::decode_file(out.committed.at("model.safetensors")).at("w").values;
  CHECK(std::isnan(w[7]));
  CHECK(w[6] == 1.5);  // 1 + 0.5·(2−1) + 0.5·(1−1)
}

TEST_CASE("a fine-tune whose vocabulary grew is cut to the base's rows, with a warning") {
  const size_t rows = 5, cols = 4, extra = 3;
  std::vector<double> base(rows * cols), grown((rows + extra) * cols);
  for (size_t i = 0; i < base.size(); ++i) base[i] = static_cast<double>(i) / 8;
  for (size_t i = 0; i < grown.size(); ++i) grown[i] = static_cast<double>(i) / 4;
  test::MemoryInputs files;
  auto model = [&](const std::vector<double>& embed, size_t r) {
    return test::safetensors_file({{"model.embed_tokens.weight", "F32", {r, cols}, test::encode("F32", embed)},
                                   {"lm_head.weight", "F32", {r, cols}, test::encode("F32", embed)}});
  };
  files.add("base.safetensors", model(base, rows));
  files.add("a.safetensors", model(grown, rows + extra));
  files.add("b.safetensors", model(base, rows));
  test::MemoryOutputs out;
  std::vector<std::string> warnings;
  run_merge(config(), {}, files, out, {}, [&](const std::string& w) { warnings.push_back(w); });
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0] == "a.safetensors: tensor 'model.embed_tokens.weight': 8 vocabulary rows cut to the 5 of base.safetensors");
  const auto merged = test::decode_file(out.committed.at("model.safetensors"));
  CHECK(merged.at("lm_head.weight").shape == std::vector<uint64_t>{rows, cols});
  for (size_t i = 0; i < base.size(); ++i) CHECK(merged.at("lm_head.weight").values[i] == base[i] + 0.5 * (grown[i] - base[i]));
}

TEST_CASE("a vocabulary that shrank, or grew in a tensor that is not an embedding, is a mismatch") {
  test::MemoryInputs files;
  auto file = [](const std::string& name, size_t rows) {
    return test::safetensors_file({{name, "F32", {rows, 2}, test::encode("F32", std::vector<double>(rows * 2, 1.0))}});
  };
  files.add("base.safetensors", file("lm_head.weight", 6));
  files.add("a.safetensors", file("lm_head.weight", 6));
  files.add("b.safetensors", file("lm_head.weight", 4));
  test::MemoryOutputs out;
  CHECK_THROWS_WITH(run_merge(config(), {}, files, out),
                    "b.safetensors: tensor 'lm_head.weight': shape [4, 2] differs from [6, 2] in base.safetensors");
  files.add("base.safetensors", file("mlp.weight", 6));
  files.add("a.safetensors", file("mlp.weight", 6));
  files.add("b.safetensors", file("mlp.weight", 8));
  CHECK_THROWS_WITH(run_merge(config(), {}, files, out),
                    "b.safetensors: tensor 'mlp.weight': shape [8, 2] differs from [6, 2] in base.safetensors");
}

TEST_CASE("a memory budget too small for the plan is a clear error") {
  auto files = three_models("F32", std::vector<double>(100000, 1.0));
  test::MemoryOutputs out;
  MergeOptions o;
  o.memory_mb = 0;
  CHECK_THROWS_WITH(run_merge(config(), o, files, out),
                    "tensor 'w': the memory budget of 0 MB is too small to merge it");
  CHECK(out.committed.empty());
}

TEST_CASE("a 1 MB budget merges small tensors (a tensor smaller than a chunk is one block)") {
  auto files = three_models("F32", std::vector<double>(128, 1.0));
  test::MemoryOutputs out;
  MergeOptions o;
  o.memory_mb = 1;
  run_merge(config(), o, files, out);
  CHECK(test::decode_file(out.committed.at("model.safetensors")).at("w").values == std::vector<double>(128, 1.5));
}
