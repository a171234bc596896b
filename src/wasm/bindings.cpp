// The module's JS API: runJob(jobJson, emit) -> exit status. See job.hpp for the job
// and its events; the files come from the host object described in host_io.js.
#include <emscripten/bind.h>

#include "js_files.hpp"
#include "wasmerge/job.hpp"

namespace {

int run_job_from_js(const std::string& job, emscripten::val emit) {
  wasmerge::JsInputFiles inputs;
  return wasmerge::run_job(
      job, inputs, [](const std::string&) { return std::make_unique<wasmerge::JsOutputFiles>(); },
      [&](const std::string& event) { emit(event); }, wasmerge::js_host_cancelled);
}

}  // namespace

EMSCRIPTEN_BINDINGS(wasmerge) { emscripten::function("runJob", &run_job_from_js); }
