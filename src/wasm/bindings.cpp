// The module's JS API: runJob(jobJson, emit) -> exit status; heapInUse() -> bytes. See job.hpp for the job
// and its events; the files come from the host object described in host_io.js.
#include <emscripten/bind.h>
#include <malloc.h>

#include "js_files.hpp"
#include "wasmerge/job.hpp"

namespace {

int run_job_from_js(const std::string& job, emscripten::val emit) {
  wasmerge::JsInputFiles inputs;
  return wasmerge::run_job(
      job, inputs, [](const std::string&) { return std::make_unique<wasmerge::JsOutputFiles>(); },
      [&](const std::string& event) { emit(event); }, wasmerge::js_host_cancelled);
}

// Bytes malloc holds for the program: a leak shows as growth across repeated jobs.
double heap_in_use() { return static_cast<double>(mallinfo().uordblks); }

}  // namespace

EMSCRIPTEN_BINDINGS(wasmerge) {
  emscripten::function("runJob", &run_job_from_js);
  emscripten::function("heapInUse", &heap_in_use);
}
