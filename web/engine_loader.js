// Starts the wasm engine (the same classic MODULARIZE script the CLI runs under node) in a
// worker: the merge worker, the query worker and the playground's worker each run one.
// Worker-only, and a classic worker at that: the engine is a classic script, loaded with
// importScripts (which module workers lack), and runJob blocks the thread. This module is
// reached from the classic worker through import() (see merge.worker.js).
const ENGINE_DIR = new URL('./engine/', import.meta.url).href;

// heapBytes: the wasm heap to start with (heap_size.js; it grows past it if needed);
// threads: the pool gets threads - 1 workers, never 0 (this thread is the other one; 0
// would hang); host: the engine's files (worker_host.js), or null to install per job.
async function loadEngine({ heapBytes, threads, host }) {
  if (typeof self.createWasmerge !== 'function') importScripts(ENGINE_DIR + 'wasmerge.js');
  try {
    return await self.createWasmerge({
      INITIAL_MEMORY: heapBytes,
      poolSize: Math.max(1, threads - 1),
      wasmergeHost: host,
      // The engine's pthreads are workers of this worker: they load the same script.
      mainScriptUrlOrBlob: ENGINE_DIR + 'wasmerge.js',
      locateFile: (file) => ENGINE_DIR + file,
      print: (s) => console.log(s),
      printErr: (s) => console.warn(s),
    });
  } catch (e) {
    if (e instanceof RangeError || /memory/i.test(String(e && e.message)))
      throw new Error(`could not reserve ${Math.round(heapBytes / 2 ** 20)} MB for the engine (${e.message}): ` +
        'lower the memory budget, or close other tabs');
    throw e;
  }
}

export { loadEngine };
