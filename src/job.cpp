#include "wasmerge/job.hpp"

#include <cstdint>
#include <new>
#include <nlohmann/json.hpp>

#include "wasmerge/error.hpp"
#include "wasmerge/method.hpp"

namespace wasmerge {
namespace {

using json = nlohmann::ordered_json;

struct Job {
  std::string kind;  // merge | plan | analyze | describe
  std::string config_json;
  std::string out_dir;
  MergeOptions options;
};

Job parse_job(const std::string& text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) fail("job", "", "malformed job (not a JSON object)");
  Job job;
  job.kind = j.value("kind", std::string(j.value("analyze", false) ? "analyze" : "merge"));
  if (job.kind != "merge" && job.kind != "plan" && job.kind != "analyze" && job.kind != "describe")
    fail("job", "", "unknown kind '" + job.kind + "' (merge, plan, analyze or describe)");
  if (job.kind == "describe") return job;
  if (!j.contains("config")) fail("job", "", "malformed job (no config)");
  job.config_json = j["config"].dump();
  job.out_dir = j.value("out_dir", std::string("."));
  job.options.config_text = j.value("config_text", job.config_json);
  job.options.threads = j.value("threads", 0u);
  job.options.memory_mb = j.value("memory_mb", job.options.memory_mb);  // MergeOptions' defaults
  job.options.out_shard_size = j.value("out_shard_size", job.options.out_shard_size);
  if (j.contains("random_seed") && !j["random_seed"].is_null()) job.options.random_seed = j["random_seed"].get<uint64_t>();
  if (j.contains("explain") && j["explain"].is_object()) {
    const auto& e = j["explain"];
    ExplainRequest request;
    request.tensor = e.value("tensor", std::string());
    request.offset = e.value("offset", uint64_t{0});
    request.count = e.value("count", size_t{256});
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
    if (job.kind == "analyze") {
      const size_t tensors = run_analysis(job.config_json, job.options, inputs, on_progress, on_warning, emit);
      emit(json{{"event", "done"}, {"files", json::array()}, {"tensor_count", tensors}, {"tensor_bytes", 0}}.dump());
      return 0;
    }
    auto outputs = make_outputs(job.out_dir);
    const MergeResult r = run_merge(job.config_json, job.options, inputs, *outputs, on_progress, on_warning, emit);
    emit(json{{"event", "done"}, {"files", r.files}, {"tensor_count", r.tensor_count}, {"tensor_bytes", r.tensor_bytes}}
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
