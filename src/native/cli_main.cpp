// The native engine behind `scripts/wasmerge --native`: reads a job (see job.hpp) on
// stdin, writes its events as JSON lines on stdout. The node front end does the rest.
#include <malloc.h>

#include <csignal>
#include <iostream>
#include <iterator>

#include "posix_files.hpp"
#include "wasmerge/job.hpp"

namespace {
volatile std::sig_atomic_t g_interrupted = 0;
void on_signal(int) { g_interrupted = 1; }
}  // namespace

int main() {
  // glibc hands blocks over 128 KB to mmap and back to the kernel on free, so every weight
  // block and activation buffer the engine allocates anew is zeroed page by page again (1.3
  // GB of page faults for 256 tokens of a 0.5B model's evaluation); a freed block kept for
  // the next one costs nothing the budget does not already allow. (The wasm heap never
  // returns memory.)
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const std::string job{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  wasmerge::PosixInputFiles inputs;
  return wasmerge::run_job(
      job, inputs, [](const std::string& dir) { return std::make_unique<wasmerge::PosixOutputFiles>(dir); },
      [](const std::string& event) { std::cout << event << '\n' << std::flush; }, [] { return g_interrupted != 0; });
}
