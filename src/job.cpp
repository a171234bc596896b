#include "wasmerge/job.hpp"

#include <cstdint>
#include <new>
#include <nlohmann/json.hpp>

#include "counting_inputs.hpp"
#include "wasmerge/error.hpp"
#include "wasmerge/eval.hpp"
#include "wasmerge/extract_lora.hpp"
#include "wasmerge/method.hpp"

namespace wasmerge {
namespace {

using json = nlohmann::ordered_json;

struct Job {
  std::string kind;  // merge | plan | analyze | describe | extract_lora | eval
  std::string config_json;
  std::string out_dir;
  MergeOptions options;
  ExtractOptions extract;
  // eval (wasmerge/eval.hpp): the models with their tokenized text, the window length (0:
  // the model's default), threads and memory
  std::vector<EvalModel> eval_models;
  uint64_t eval_context = 0;
};

// A job's fields, each of one kind or absent (its default): another value is an error
// naming the field, never a conversion (a huge or fractional number, a string for a count).
std::string text_field(const json& j, const char* key, const std::string& fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_string()) fail("job", "", std::string(key) + " must be a string");
  return j[key].get<std::string>();
}

bool flag_field(const json& j, const char* key, bool fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_boolean()) fail("job", "", std::string(key) + " must be true or false");
  return j[key].get<bool>();
}

uint64_t count_field(const json& j, const char* key, uint64_t fallback, uint64_t most = UINT64_MAX) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_number_unsigned() || j[key].get<uint64_t>() > most)
    fail("job", "", std::string(key) + " must be an integer from 0 to " + std::to_string(most));
  return j[key].get<uint64_t>();
}

constexpr uint64_t kMostThreads = 1024;
constexpr uint64_t kMostMemoryMb = uint64_t{1} << 30;  // MB: its bytes still fit 64 bits

// {"kind":"extract_lora","base":..,"model":..,"rank":R,"out_dir":..,"sv_epsilon":0,
//  "distribute_scale":true,"embed_lora":false,"include":null,"exclude":null,"dtype":null,
//  "svd":"auto","random_seed":0,"threads":0,"memory_mb":1024}
void parse_extract_job(const json& j, Job& job) {
  ExtractOptions& e = job.extract;
  auto text = [&](const char* key) {
    if (!j.contains(key) || !j[key].is_string() || j[key].get<std::string>().empty())
      fail("job", "", std::string("extract_lora needs \"") + key + "\" (a path)");
    return j[key].get<std::string>();
  };
  auto optional_text = [&](const char* key) -> std::optional<std::string> {
    if (!j.contains(key) || j[key].is_null()) return std::nullopt;
    return text_field(j, key, "");
  };
  auto flag = [&](const char* key, bool fallback) { return flag_field(j, key, fallback); };
  e.base = text("base");
  e.model = text("model");
  if (!j.contains("rank") || !j["rank"].is_number_integer() || j["rank"].get<int64_t>() <= 0 ||
      j["rank"].get<int64_t>() > (int64_t{1} << 31))
    fail("job", "", "extract_lora needs \"rank\", a positive integer");
  e.rank = static_cast<size_t>(j["rank"].get<int64_t>());
  if (j.contains("sv_epsilon") && !j["sv_epsilon"].is_null()) {
    if (!j["sv_epsilon"].is_number() || !(j["sv_epsilon"].get<double>() >= 0))
      fail("job", "", "sv_epsilon must be a non-negative number");
    e.sv_epsilon = j["sv_epsilon"].get<double>();
  }
  e.distribute_scale = flag("distribute_scale", true);
  e.embed_lora = flag("embed_lora", false);
  e.include = optional_text("include");
  e.exclude = optional_text("exclude");
  if (const auto dtype = optional_text("dtype")) {
    const auto parsed = dtype_from_torch_name(*dtype);
    if (!parsed || !is_mergeable(*parsed)) fail("job", "", "dtype: '" + *dtype + "' is not a float dtype");
    e.dtype = parsed;
  }
  const std::string svd = optional_text("svd").value_or("auto");
  if (svd == "auto") e.svd = SvdMethod::Auto;
  else if (svd == "exact") e.svd = SvdMethod::Exact;
  else if (svd == "randomized") e.svd = SvdMethod::Randomized;
  else fail("job", "", "svd: '" + svd + "' (auto, exact or randomized)");
  e.random_seed = count_field(j, "random_seed", e.random_seed);
  e.threads = static_cast<unsigned>(count_field(j, "threads", 0, kMostThreads));
  e.memory_mb = count_field(j, "memory_mb", e.memory_mb, kMostMemoryMb);
  if (e.memory_mb == 0) fail("job", "", "memory_mb must be positive");
  job.out_dir = text_field(j, "out_dir", ".");
}

// {"kind":"eval","models":[{"path":"<folder>","tokens":[ids...],"text_bytes":B}],
//  "context":C|null,"threads":N,"memory_mb":M}   (the events: wasmerge/eval.hpp)
void parse_eval_job(const json& j, Job& job) {
  if (!j.contains("models") || !j["models"].is_array() || j["models"].empty())
    fail("job", "", "eval needs \"models\", a list of {path, tokens, text_bytes}");
  for (const json& m : j["models"]) {
    if (!m.is_object()) fail("job", "", "eval: each of \"models\" must be {path, tokens, text_bytes}");
    EvalModel e;
    e.path = text_field(m, "path", "");
    if (e.path.empty()) fail("job", "", "eval: a model has no \"path\"");
    if (!m.contains("tokens") || !m["tokens"].is_array())
      fail("job", "", "eval: model " + e.path + " has no \"tokens\" list");
    for (const json& id : m["tokens"]) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
        fail("job", "", "eval: a token id of " + e.path + " is not a non-negative integer");
      e.tokens.push_back(static_cast<int32_t>(id.get<int64_t>()));
    }
    e.text_bytes = count_field(m, "text_bytes", 0);
    if (e.text_bytes == 0) fail("job", "", "eval: model " + e.path + " needs \"text_bytes\", the text's positive size");
    job.eval_models.push_back(std::move(e));
  }
  job.eval_context = count_field(j, "context", 0, uint32_t{1} << 30);
  if (j.contains("context") && !j["context"].is_null() && job.eval_context < 2)
    fail("job", "", "context must be at least 2 tokens");
  job.options.threads = static_cast<unsigned>(count_field(j, "threads", 0, kMostThreads));
  job.options.memory_mb = count_field(j, "memory_mb", job.options.memory_mb, kMostMemoryMb);
  if (job.options.memory_mb == 0) fail("job", "", "memory_mb must be positive");
}

// Evaluates each model in order, reporting per wasmerge/eval.hpp.
void run_eval_job(const Job& job, InputFiles& inputs, const EmitFn& emit, const CancelFn& cancelled) {
  ThreadPool pool(job.options.threads);
  for (size_t i = 0; i < job.eval_models.size(); ++i) {
    const EvalModel& m = job.eval_models[i];
    EvalProgress progress;
    progress.on_start = [&](int layers, size_t windows, size_t groups) {
      emit(json{{"event", "eval_start"},
                {"model", i},
                {"path", m.path},
                {"layers", layers},
                {"windows", windows},
                {"groups", groups}}
               .dump());
    };
    progress.on_layer = [&](int layer, int layers, size_t group, size_t groups) {
      emit(json{{"event", "eval_layer"},
                {"model", i},
                {"layer", layer},
                {"layers", layers},
                {"group", group},
                {"groups", groups}}
               .dump());
      if (cancelled && cancelled()) throw Cancelled();
    };
    const EvalResult r = evaluate_model(inputs, m, job.eval_context, pool, job.options.memory_mb << 20, progress);
    emit(json{{"event", "eval_result"},
              {"model", i},
              {"path", r.path},
              {"tokens", r.tokens},
              {"predicted", r.predicted},
              {"nll", r.nll},
              {"perplexity", r.perplexity},
              {"bits_per_byte", r.bits_per_byte}}
             .dump());
  }
  emit(json{{"event", "done"}, {"files", json::array()}, {"tensor_count", 0}, {"tensor_bytes", 0}}.dump());
}

Job parse_job(const std::string& text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) fail("job", "", "malformed job (not a JSON object)");
  Job job;
  job.kind = text_field(j, "kind", flag_field(j, "analyze", false) ? "analyze" : "merge");
  if (job.kind != "merge" && job.kind != "plan" && job.kind != "analyze" && job.kind != "describe" &&
      job.kind != "extract_lora" && job.kind != "eval")
    fail("job", "", "unknown kind '" + job.kind + "' (merge, plan, analyze, describe, extract_lora or eval)");
  if (job.kind == "describe") return job;
  if (job.kind == "eval") {
    parse_eval_job(j, job);
    return job;
  }
  if (job.kind == "extract_lora") {
    parse_extract_job(j, job);
    return job;
  }
  if (!j.contains("config")) fail("job", "", "malformed job (no config)");
  job.config_json = j["config"].dump();
  job.out_dir = text_field(j, "out_dir", ".");
  job.options.config_text = text_field(j, "config_text", job.config_json);
  job.options.threads = static_cast<unsigned>(count_field(j, "threads", 0, kMostThreads));
  job.options.memory_mb = count_field(j, "memory_mb", job.options.memory_mb, kMostMemoryMb);  // MergeOptions' defaults
  job.options.out_shard_size = count_field(j, "out_shard_size", job.options.out_shard_size);
  if (j.contains("random_seed") && !j["random_seed"].is_null())
    job.options.random_seed = count_field(j, "random_seed", 0);
  if (j.contains("explain") && j["explain"].is_object()) {
    const auto& e = j["explain"];
    ExplainRequest request;
    request.tensor = text_field(e, "tensor", "");
    request.offset = count_field(e, "offset", 0);
    request.count = static_cast<size_t>(count_field(e, "count", 256, uint32_t{1} << 30));
    job.options.explain = request;
  }
  if (j.contains("prompt_tokens") && !j["prompt_tokens"].is_null()) {
    const auto& tokens = j["prompt_tokens"];
    if (!tokens.is_object()) fail("job", "", "prompt_tokens must map each prompt to its token ids");
    for (const auto& item : tokens.items()) {
      if (!item.value().is_array()) fail("job", "", "prompt_tokens must map each prompt to its token ids");
      std::vector<int32_t>& ids = job.options.prompt_tokens[item.key()];
      for (const auto& id : item.value()) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
          fail("job", "", "prompt_tokens: a token id of \"" + item.key() + "\" is not a non-negative integer");
        ids.push_back(static_cast<int32_t>(id.get<int64_t>()));
      }
    }
  }
  if (job.options.memory_mb == 0) fail("job", "", "memory_mb must be positive");
  if (job.options.out_shard_size == 0) fail("job", "", "out_shard_size must be positive");
  return job;
}

std::string error_event(const std::string& message, bool cancelled) {
  return json{{"event", "error"}, {"message", message}, {"cancelled", cancelled}}.dump();
}

}  // namespace

int run_job(const std::string& job_json, InputFiles& inputs, const OutputFactory& make_outputs, const EmitFn& emit,
            const CancelFn& cancelled) {
  try {
    const Job job = parse_job(job_json);
    auto on_warning = [&](const std::string& w) { emit(json{{"event", "warning"}, {"message", w}}.dump()); };
    if (job.kind == "describe") {
      emit(methods_event_json());
      return 0;
    }
    if (job.kind == "eval") {
      run_eval_job(job, inputs, emit, cancelled);
      return 0;
    }
    if (job.kind == "plan") {
      emit(plan_merge(job.config_json, job.options, inputs, on_warning));
      return 0;
    }
    auto on_progress = [&](const Progress& p) {
      emit(json{{"event", "progress"},
                {"bytes_done", p.bytes_done},
                {"bytes_total", p.bytes_total},
                {"tensor", p.tensor ? *p.tensor : std::string()},
                {"tensor_index", p.tensor_index},
                {"tensor_count", p.tensor_count}}
               .dump());
      return !(cancelled && cancelled());
    };
    if (job.kind == "extract_lora") {
      auto outputs = make_outputs(job.out_dir);
      const ExtractResult r = extract_lora(job.extract, inputs, *outputs, on_progress, on_warning);
      emit(json{{"event", "done"}, {"files", r.files}, {"tensor_count", r.tensor_count}, {"tensor_bytes", r.tensor_bytes}}
               .dump());
      return 0;
    }
    if (job.kind == "analyze") {
      const size_t tensors = run_analysis(job.config_json, job.options, inputs, on_progress, on_warning, emit);
      emit(json{{"event", "done"}, {"files", json::array()}, {"tensor_count", tensors}, {"tensor_bytes", 0}}.dump());
      return 0;
    }
    auto outputs = make_outputs(job.out_dir);
    CountingInputs counted(inputs);
    const MergeResult r = run_merge(job.config_json, job.options, counted, *outputs, on_progress, on_warning, emit);
    emit(json{{"event", "done"},
              {"files", r.files},
              {"tensor_count", r.tensor_count},
              {"tensor_bytes", r.tensor_bytes},
              {"bytes_read", counted.bytes_read()},
              {"compute_seconds", r.compute_seconds}}
             .dump());
    return 0;
  } catch (const Cancelled& e) {
    emit(error_event(e.what(), true));
    return 130;
  } catch (const MergeError& e) {
    emit(error_event(e.what(), false));
  } catch (const std::bad_alloc&) {
    emit(error_event("out of memory: lower the memory budget or merge fewer models at once", false));
  } catch (const std::exception& e) {
    emit(error_event(std::string("internal error: ") + e.what(), false));
  }
  return 1;
}

}  // namespace wasmerge
