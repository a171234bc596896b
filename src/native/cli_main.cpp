// The native engine behind `scripts/wasmerge --native`: reads a job (see job.hpp) on
// stdin, writes its events as JSON lines on stdout. The node front end does the rest.
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
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const std::string job{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  wasmerge::PosixInputFiles inputs;
  return wasmerge::run_job(
      job, inputs, [](const std::string& dir) { return std::make_unique<wasmerge::PosixOutputFiles>(dir); },
      [](const std::string& event) { std::cout << event << '\n' << std::flush; }, [] { return g_interrupted != 0; });
}
