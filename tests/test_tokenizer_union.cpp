// Vocabulary changes (tokenizer_source: union, tokenizer:) and chat_template, checked row by
// row against tables written here by hand from mergekit's rules (tokenizer/build.py,
// embed.py): the output vocabulary is the base's tokens, then the other models' missing
// tokens in config order (plain ones, then added ones), then the `tokens:` entries; a
// model lacking a token gets: the `tokens:` source, else the row of the one model that
// has it, else the base's row, else the mean of the rows of the models that have it.
#include <doctest/doctest.h>

#include <array>
#include <functional>
#include <nlohmann/json.hpp>

#include "support.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/merge.hpp"

using namespace wasmerge;
using test::Bytes;

namespace {

constexpr size_t kColumns = 3;
const char* kEmbed = "model.embed_tokens.weight";
const char* kHead = "lm_head.weight";
const char* kNorm = "model.norm.weight";

struct Added {
  uint64_t id;
  std::string content;
  bool special;
};

// tokenizer.json by hand: a BPE model's vocab {token: id} and added_tokens.
std::string tokenizer_json(const std::vector<std::string>& vocab, const std::vector<Added>& added) {
  std::string s = R"({"version":"1.0","model":{"type":"BPE","vocab":{)";
  for (size_t i = 0; i < vocab.size(); ++i) s += (i ? "," : "") + ("\"" + vocab[i] + "\":" + std::to_string(i));
  s += R"(},"merges":[]},"added_tokens":[)";
  for (size_t i = 0; i < added.size(); ++i)
    s += (i ? "," : "") + ("{\"id\":" + std::to_string(added[i].id) + ",\"content\":\"" + added[i].content +
                           "\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,"
                           "\"special\":" +
                           (added[i].special ? "true" : "false") + "}");
  return s + "]}";
}

using Rows = std::vector<std::vector<double>>;  // a vocabulary tensor, row by row

struct TestModel {
  std::string path;
  std::map<std::string, Rows> vocab_tensors;  // embed, head
  std::vector<double> norm;
};

Rows random_rows(size_t rows, uint32_t seed) {
  const auto v = test::random_values("F32", rows * kColumns, seed);
  Rows out(rows);
  for (size_t r = 0; r < rows; ++r) out[r].assign(v.begin() + r * kColumns, v.begin() + (r + 1) * kColumns);
  return out;
}

std::vector<double> flat(const Rows& rows) {
  std::vector<double> out;
  for (const auto& r : rows) out.insert(out.end(), r.begin(), r.end());
  return out;
}

// A folder model: safetensors, tokenizer.json, config.json (vocab_size = its rows).
TestModel add_model(test::MemoryInputs& files, const std::string& path, size_t rows, uint32_t seed,
                    const std::string& tokenizer) {
  TestModel m{path,
              {{kEmbed, random_rows(rows, seed)}, {kHead, random_rows(rows, seed + 1)}},
              test::random_values("F32", kColumns, seed + 2)};
  files.add(
      path + "/model.safetensors",
      test::safetensors_file({{kEmbed, "F32", {rows, kColumns}, test::encode("F32", flat(m.vocab_tensors[kEmbed]))},
                              {kNorm, "F32", {kColumns}, test::encode("F32", m.norm)},
                              {kHead, "F32", {rows, kColumns}, test::encode("F32", flat(m.vocab_tensors[kHead]))}}));
  files.add_text(path + "/tokenizer.json", tokenizer);
  files.add_text(path + "/config.json",
                 R"({"model_type":"llama","vocab_size":)" + std::to_string(rows) + R"(,"torch_dtype":"float32"})");
  return m;
}

// base: <unk> <s> </s> a b c, added <|im_start|> (6) and <|extra|> (7, past its 7 rows).
// a:    <unk> <s> </s> a b x y, added <|im_start|> (7).
// b:    <unk> <s> </s> b a c y z (its own order), added <|im_start|> (8), <|tool|> (9); 11 rows.
struct ThreeModels {
  test::MemoryInputs files;
  TestModel base, a, b;
  ThreeModels() {
    base = add_model(
        files, "base", 7, 10,
        tokenizer_json({"<unk>", "<s>", "</s>", "a", "b", "c"}, {{6, "<|im_start|>", true}, {7, "<|extra|>", true}}));
    a = add_model(files, "a", 8, 20,
                  tokenizer_json({"<unk>", "<s>", "</s>", "a", "b", "x", "y"}, {{7, "<|im_start|>", true}}));
    b = add_model(files, "b", 11, 30,
                  tokenizer_json({"<unk>", "<s>", "</s>", "b", "a", "c", "y", "z"},
                                 {{8, "<|im_start|>", true}, {9, "<|tool|>", true}}));
    files.add_text("base/tokenizer_config.json", R"({"added_tokens_decoder":{
        "6":{"content":"<|im_start|>","lstrip":false,"normalized":false,"rstrip":false,"single_word":false,"special":true},
        "7":{"content":"<|extra|>","lstrip":false,"normalized":false,"rstrip":false,"single_word":false,"special":true}},
        "chat_template":"old","model_max_length":512})");
    files.add_text("base/special_tokens_map.json", R"({"bos_token":"<s>"})");
  }
  const TestModel& model(int k) const { return k == 0 ? base : k == 1 ? a : b; }
};

// Where one remapped row comes from: the mean of these rows (model 0 base, 1 a, 2 b); none: zeros.
using Source = std::vector<std::pair<int, size_t>>;
// Per output token: the source of base's, a's and b's row.
using Table = std::vector<std::array<Source, 3>>;

// The union of ThreeModels, written out from the rules by hand.
const std::vector<std::string> kUnionTokens = {"<unk>",        "<s>", "</s>", "a", "b",       "c",
                                               "<|im_start|>", "x",   "y",    "z", "<|tool|>"};
Table union_table() {
  return {
      {{{{0, 0}}, {{1, 0}}, {{2, 0}}}},          // <unk>
      {{{{0, 1}}, {{1, 1}}, {{2, 1}}}},          // <s>
      {{{{0, 2}}, {{1, 2}}, {{2, 2}}}},          // </s>
      {{{{0, 3}}, {{1, 3}}, {{2, 4}}}},          // a: b has it at 4
      {{{{0, 4}}, {{1, 4}}, {{2, 3}}}},          // b
      {{{{0, 5}}, {{0, 5}}, {{2, 5}}}},          // c: a lacks it; base and b have it -> the base's row
      {{{{0, 6}}, {{1, 7}}, {{2, 8}}}},          // <|im_start|>, added in all three
      {{{{1, 5}}, {{1, 5}}, {{1, 5}}}},          // x: only a has it
      {{{{1, 6}, {2, 6}}, {{1, 6}}, {{2, 6}}}},  // y: a and b, not the base -> their mean for the base
      {{{{2, 7}}, {{2, 7}}, {{2, 7}}}},          // z: only b
      {{{{2, 9}}, {{2, 9}}, {{2, 9}}}},          // <|tool|>: only b
  };
}

// A model's remapped tensor by the table, fill means in f64 rounded to f32 (the model's
// dtype); `rows` past the table are the mean of the table's rows.
Rows remapped(const ThreeModels& m, const Table& table, int k, const std::string& tensor, size_t rows) {
  Rows out;
  for (const auto& entry : table) {
    std::vector<double> row(kColumns, 0.0);
    for (const auto& [model, r] : entry[k])
      for (size_t c = 0; c < kColumns; ++c) row[c] += m.model(model).vocab_tensors.at(tensor)[r][c];
    for (auto& v : row) v = static_cast<float>(entry[k].empty() ? 0.0 : v / entry[k].size());
    out.push_back(row);
  }
  std::vector<double> mean(kColumns, 0.0);
  for (const auto& row : out)
    for (size_t c = 0; c < kColumns; ++c) mean[c] += row[c];
  for (auto& v : mean) v = static_cast<float>(v / table.size());
  while (out.size() < rows) out.push_back(mean);
  return out;
}

struct Run {
  test::MemoryOutputs out;
  std::vector<std::string> warnings;
};

Run merge(test::MemoryInputs& files, const std::string& config, uint64_t memory_mb = 64, unsigned threads = 2) {
  Run run;
  MergeOptions options;
  options.threads = threads;
  options.memory_mb = memory_mb;
  run_merge(config, options, files, run.out, {}, [&](const std::string& w) { run.warnings.push_back(w); });
  return run;
}

std::string error_of(test::MemoryInputs& files, const std::string& config, test::MemoryOutputs& out) {
  try {
    run_merge(config, MergeOptions(), files, out);
  } catch (const MergeError& e) {
    return e.what();
  }
  FAIL("merge accepted: " << config);
  return "";
}

// Checks both vocabulary tensors of the output row by row: merged(k, tensor) gives the
// expected row from the models' remapped rows; the norm is merged from the models' own.
void check_rows(const Run& run, size_t rows,
                const std::function<double(const std::vector<Rows>&, size_t r, size_t c)>& merged,
                const std::function<double(size_t r, size_t c)>& scale, const ThreeModels& m, const Table& table) {
  const auto out = test::decode_file(run.out.committed.at("model.safetensors"));
  for (const char* name : {kEmbed, kHead}) {
    const auto& t = out.at(name);
    REQUIRE(t.shape == std::vector<uint64_t>{rows, kColumns});
    std::vector<Rows> inputs;
    for (int k = 0; k < 3; ++k) inputs.push_back(remapped(m, table, k, name, rows));
    for (size_t r = 0; r < rows; ++r)
      for (size_t c = 0; c < kColumns; ++c) {
        const double want = merged(inputs, r, c);
        INFO(name << " row " << r << " column " << c << ": got " << t.values[r * kColumns + c] << ", want " << want);
        CHECK(std::fabs(t.values[r * kColumns + c] - want) <= test::tolerance("F32", want, scale(r, c)));
      }
  }
}

nlohmann::json json_file(const Run& run, const std::string& name) { return nlohmann::json::parse(run.out.text(name)); }

const char* kLinear = R"({"merge_method":"linear","base_model":"base","tokenizer_source":"union",
  "models":[{"model":"a","parameters":{"weight":1}},{"model":"b","parameters":{"weight":3}}]})";
const char* kTaskArithmetic = R"({"merge_method":"task_arithmetic","base_model":"base","tokenizer_source":"union",
  "models":[{"model":"a","parameters":{"weight":1}},{"model":"b","parameters":{"weight":3}}]})";

}  // namespace

TEST_CASE("tokenizer union: linear merges each row from the models' rows in the output's order") {
  ThreeModels m;
  const Run run = merge(m.files, kLinear);
  // linear over a and b (normalized by 1 + 3); the base only lends its rows to the fill.
  check_rows(
      run, 11, [](const std::vector<Rows>& in, size_t r, size_t c) { return (in[1][r][c] + 3 * in[2][r][c]) / 4; },
      [](size_t, size_t) { return 8.0; }, m, union_table());
  const auto norm = test::decode_file(run.out.committed.at("model.safetensors")).at(kNorm);
  for (size_t c = 0; c < kColumns; ++c) CHECK(norm.values[c] == doctest::Approx((m.a.norm[c] + 3 * m.b.norm[c]) / 4));
}

TEST_CASE("tokenizer union: task_arithmetic remaps the base too (a mean row where two models have the token)") {
  ThreeModels m;
  const Run run = merge(m.files, kTaskArithmetic);
  check_rows(
      run, 11,
      [](const std::vector<Rows>& in, size_t r, size_t c) {
        const double b = in[0][r][c];
        return b + (in[1][r][c] - b) + 3 * (in[2][r][c] - b);
      },
      [](size_t, size_t) { return 16.0; }, m, union_table());
}

TEST_CASE("tokenizer union: the output's tokenizer files and config.json") {
  ThreeModels m;
  const Run run = merge(m.files, kLinear);
  const auto tok = json_file(run, "tokenizer.json");
  // The base's own vocabulary as it was; <|extra|> (past the base's rows) left out; the
  // new tokens appended after the base's 7 as added tokens, plain ones first.
  CHECK(tok["model"]["vocab"] ==
        nlohmann::json::parse(tokenizer_json({"<unk>", "<s>", "</s>", "a", "b", "c"}, {}))["model"]["vocab"]);
  const auto& added = tok["added_tokens"];
  REQUIRE(added.size() == 5);
  const std::vector<std::pair<uint64_t, std::string>> want = {
      {6, "<|im_start|>"}, {7, "x"}, {8, "y"}, {9, "z"}, {10, "<|tool|>"}};
  for (size_t i = 0; i < want.size(); ++i) {
    CHECK(added[i]["id"] == want[i].first);
    CHECK(added[i]["content"] == want[i].second);
  }
  CHECK(added[1]["special"] == false);  // plain tokens as transformers' add_tokens adds them
  CHECK(added[1]["normalized"] == true);
  CHECK(added[4]["special"] == true);  // b's settings of <|tool|>
  CHECK(added[4]["normalized"] == false);

  const auto config = json_file(run, "config.json");
  CHECK(config["vocab_size"] == 11);
  CHECK(config["model_type"] == "llama");

  const auto tc = json_file(run, "tokenizer_config.json");
  const auto& decoder = tc["added_tokens_decoder"];
  CHECK(decoder["6"]["content"] == "<|im_start|>");
  CHECK(decoder["7"]["content"] == "x");
  CHECK(decoder["10"]["content"] == "<|tool|>");
  CHECK(decoder["10"]["special"] == true);
  CHECK(decoder.size() == 5);
  CHECK(tc["chat_template"] == "old");
  CHECK(tc["model_max_length"] == 512);
  CHECK(run.out.text("special_tokens_map.json") == R"({"bos_token":"<s>"})");
}

TEST_CASE("tokenizer: tokens sources, force, and pad_to_multiple_of (padding rows: each model's mean row)") {
  ThreeModels m;
  const Run run = merge(m.files, R"({"merge_method":"task_arithmetic","base_model":"base",
    "tokenizer":{"source":"union","pad_to_multiple_of":8,"tokens":{
      "b":{"source":"b","force":true},
      "<|new|>":{"source":{"kind":"model_token","model":"a","token_id":1}},
      "<|zero|>":{"source":{"kind":"zero"}},
      "y":{"source":"a"}}},
    "models":[{"model":"a","parameters":{"weight":1}},{"model":"b","parameters":{"weight":3}}]})");
  Table table = union_table();
  table[4] = {{{{2, 3}}, {{2, 3}}, {{2, 3}}}};        // b: forced from model b (its row 3) for everyone
  table[8] = {{{{1, 6}}, {{1, 6}}, {{2, 6}}}};        // y: the base takes a's row, as configured
  table.push_back({{{{1, 1}}, {{1, 1}}, {{1, 1}}}});  // <|new|>: a's row 1 (token_id), in no model
  table.push_back({{{}, {}, {}}});                    // <|zero|>
  check_rows(
      run, 16,
      [](const std::vector<Rows>& in, size_t r, size_t c) {
        const double b = in[0][r][c];
        return b + (in[1][r][c] - b) + 3 * (in[2][r][c] - b);
      },
      [](size_t, size_t) { return 16.0; }, m, table);
  CHECK(json_file(run, "config.json")["vocab_size"] == 16);
  const auto tok = json_file(run, "tokenizer.json");
  const auto& added = tok["added_tokens"];
  REQUIRE(added.size() == 7);
  CHECK(added[5]["content"] == "<|new|>");
  CHECK(added[5]["id"] == 11);
  CHECK(added[6]["content"] == "<|zero|>");
}

TEST_CASE("tokenizer: source a model path: that model's vocabulary, whole, and everyone's rows in its order") {
  ThreeModels m;
  const Run run = merge(m.files, R"({"merge_method":"linear","base_model":"base","tokenizer":{"source":"b"},
    "models":[{"model":"a","parameters":{"weight":1}},{"model":"b","parameters":{"weight":3}}]})");
  // b's tokens: <unk> <s> </s> b a c y z <|im_start|> <|tool|>; its 11th row has no token.
  const Table table = {
      {{{{0, 0}}, {{1, 0}}, {{2, 0}}}},         {{{{0, 1}}, {{1, 1}}, {{2, 1}}}},
      {{{{0, 2}}, {{1, 2}}, {{2, 2}}}},         {{{{0, 4}}, {{1, 4}}, {{2, 3}}}},  // b
      {{{{0, 3}}, {{1, 3}}, {{2, 4}}}},                                            // a
      {{{{0, 5}}, {{0, 5}}, {{2, 5}}}},                                            // c: the base's row for a
      {{{{1, 6}, {2, 6}}, {{1, 6}}, {{2, 6}}}},                                    // y
      {{{{2, 7}}, {{2, 7}}, {{2, 7}}}},                                            // z
      {{{{0, 6}}, {{1, 7}}, {{2, 8}}}},                                            // <|im_start|>
      {{{{2, 9}}, {{2, 9}}, {{2, 9}}}},                                            // <|tool|>
  };
  check_rows(
      run, 10, [](const std::vector<Rows>& in, size_t r, size_t c) { return (in[1][r][c] + 3 * in[2][r][c]) / 4; },
      [](size_t, size_t) { return 8.0; }, m, table);
  CHECK(json_file(run, "config.json")["vocab_size"] == 10);
  CHECK(json_file(run, "tokenizer.json")["added_tokens"].size() == 2);
}

TEST_CASE("tokenizer union: rows split between blocks, any budget and thread count give the same bytes") {
  // 6000 tokens of 3 values: the pipeline's 16384-element blocks end inside rows, and with
  // 1 MB the padding's mean is summed in several batches. a holds the base's tokens in
  // reverse order and one more; 6001 rows padded to 6016.
  test::MemoryInputs files;
  std::vector<std::string> tokens, reversed;
  for (int i = 0; i < 6000; ++i) tokens.push_back("t" + std::to_string(i));
  reversed.assign(tokens.rbegin(), tokens.rend());
  reversed.push_back("extra");
  const TestModel base = add_model(files, "base", 6000, 40, tokenizer_json(tokens, {}));
  const TestModel a = add_model(files, "a", 6001, 50, tokenizer_json(reversed, {}));
  const char* config = R"({"merge_method":"task_arithmetic","base_model":"base",
    "tokenizer":{"pad_to_multiple_of":64},"models":[{"model":"a","parameters":{"weight":0.5}}]})";
  const Run small = merge(files, config, 1, 1), large = merge(files, config, 256, 3);
  CHECK(small.out.committed.at("model.safetensors") == large.out.committed.at("model.safetensors"));
  const auto out = test::decode_file(small.out.committed.at("model.safetensors")).at(kEmbed);
  REQUIRE(out.shape == std::vector<uint64_t>{6016, kColumns});
  const Rows& b = base.vocab_tensors.at(kEmbed);
  const Rows& m = a.vocab_tensors.at(kEmbed);
  // The remapped rows: the base's row of "extra" is a's (the one model that has it).
  Rows base_rows(b.begin(), b.end()), a_rows(m.rbegin() + 1, m.rend());
  base_rows.push_back(m[6000]);
  a_rows.push_back(m[6000]);
  for (Rows* rows : {&base_rows, &a_rows}) {
    std::vector<double> mean(kColumns, 0.0);
    for (const auto& row : *rows)
      for (size_t c = 0; c < kColumns; ++c) mean[c] += row[c];
    for (auto& v : mean) v = static_cast<float>(v / 6001);
    rows->resize(6016, mean);
  }
  for (size_t r = 0; r < 6016; ++r)
    for (size_t c = 0; c < kColumns; ++c) {
      const double want = base_rows[r][c] + 0.5 * (a_rows[r][c] - base_rows[r][c]);
      INFO("row " << r << " column " << c);
      CHECK(std::fabs(out.values[r * kColumns + c] - want) <= test::tolerance("F32", want, 4.0));
    }
}

TEST_CASE("tokenizer union: the dry run shows the vocabulary, and the output's size is exact") {
  ThreeModels m;
  const auto plan = nlohmann::json::parse(plan_merge(kLinear, MergeOptions(), m.files));
  CHECK(plan["vocabulary"]["source"] == "union");
  CHECK(plan["vocabulary"]["tokens"] == 11);
  CHECK(plan["vocabulary"]["rows"] == 11);
  CHECK(plan["vocabulary"]["appended"] == nlohmann::json::array({"x", "y", "z", "<|tool|>"}));
  CHECK(plan["config_edits"]["vocab_size"] == 11);
  CHECK(plan["output_bytes"] == 2 * 11 * kColumns * 4 + kColumns * 4);
  for (const auto& t : plan["tensors"])
    if (t["name"] != kNorm) CHECK(t["shape"] == nlohmann::json::array({11, kColumns}));
  const Run run = merge(m.files, kLinear);
  CHECK(run.out.committed.at("model.safetensors").size() == plan["files"][0]["bytes"].get<uint64_t>());
}

TEST_CASE("chat_template: a built-in name, a literal template, and 'auto'") {
  ThreeModels m;
  auto config_with = [](const std::string& extra) {
    return R"({"merge_method":"linear","base_model":"base",)" + extra +
           R"(,"models":[{"model":"a","parameters":{"weight":1}},{"model":"b","parameters":{"weight":1}}]})";
  };
  const Run chatml = merge(m.files, config_with(R"("chat_template":"chatml")"));
  const std::string t = json_file(chatml, "tokenizer_config.json")["chat_template"];
  CHECK(t.find("<|im_start|>") != std::string::npos);
  CHECK(t.find("add_generation_prompt") != std::string::npos);
  CHECK(json_file(chatml, "tokenizer_config.json")["model_max_length"] == 512);  // the rest as it was
  CHECK(chatml.out.committed.count("tokenizer.json") == 1);

  const std::string literal = "{{messages[0]['content']}}";
  const Run lit = merge(m.files, config_with(R"("chat_template":"{{messages[0]['content']}}")"));
  CHECK(json_file(lit, "tokenizer_config.json")["chat_template"] == literal);

  m.files.add_text("a/tokenizer_config.json", R"({"chat_template":"  shared  "})");
  m.files.add_text("b/tokenizer_config.json", R"({"chat_template":"shared"})");
  const Run automatic = merge(m.files, config_with(R"("chat_template":"auto")"));
  CHECK(json_file(automatic, "tokenizer_config.json")["chat_template"] == "shared");
}

TEST_CASE("tokenizer and chat_template errors: one line naming the key, model or file; nothing written") {
  ThreeModels m;
  test::MemoryOutputs out;
  CHECK(error_of(m.files,
                 R"({"merge_method":"linear","chat_template":"chatmlx","models":[{"model":"a"},{"model":"b"}]})",
                 out) ==
        "config: chat_template 'chatmlx' is neither a built-in template (alpaca, chatml, exaone, llama3, mistral), "
        "'auto', nor a Jinja template (one with {% or {{)");
  CHECK(error_of(m.files, R"({"merge_method":"linear","tokenizer":{"tokens":{"a":{"source":"nope"}}},
      "models":[{"model":"a"},{"model":"b"}]})",
                 out) == "config: tokenizer.tokens 'a': source 'nope' is not among the models of the merge");
  CHECK(error_of(m.files, R"({"merge_method":"linear","tokenizer":{"tokens":{"q":{"source":"a"}}},
      "models":[{"model":"a"},{"model":"b"}]})",
                 out) == "config: tokenizer.tokens 'q': source model a has no such token");
  CHECK(error_of(m.files, R"({"merge_method":"linear","tokenizer_source":"union","tokenizer":{},
      "models":[{"model":"a"},{"model":"b"}]})",
                 out) == "config: give either tokenizer_source or tokenizer, not both");
  CHECK(error_of(m.files, R"({"merge_method":"linear","modules":{"text":{}},"models":[{"model":"a"}]})", out) ==
        "config: 'modules' (per-module merges of multi-module architectures) is not supported yet by wasmerge");
  m.files.files.erase("b/tokenizer.json");
  CHECK(error_of(m.files, kLinear, out) ==
        "b: has no tokenizer.json, which tokenizer_source: union reads from every model");
  CHECK(out.committed.empty());
  CHECK(out.pending.empty());
}
