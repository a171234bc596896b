// Linked with --post-js (CMakeLists.txt), with -sPTHREAD_POOL_DELAY_LOAD=1: the module is
// ready once compiled, without waiting ~30-45 ms for the pool's workers to boot and load
// it, and a thread started before its worker has loaded runs as soon as it has.
// Emscripten 3.1.6 would hold such a thread's `run` message until the worker's `loaded`
// reply reaches this thread's event loop, which never turns while runJob blocks it: a
// deadlock. A worker handles messages in order and its `load` (sent when the module was
// compiled, before any thread can start) comes first, so sending `run` at once is safe.
if (!ENVIRONMENT_IS_PTHREAD) {
  PThread.unusedWorkers.forEach(function(worker) { worker.loaded = true; });
}
