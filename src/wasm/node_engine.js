'use strict';
// Runs jobs (see include/wasmerge/job.hpp) on the wasm engine under node. The engine runs
// in a worker thread: runJob blocks its thread for the whole merge, and this (main) thread
// must stay free to turn SIGINT/SIGTERM into a cancel, which the engine sees at the next
// block, discards what it wrote, and reports.
//
// startWasmEngine starts that worker before there is a job: booting it, compiling the
// wasm and starting the pool's thread take ~80 ms, which then overlap with the caller
// reading its config. Its heap and pool size must be known that early; a job that wants
// others gets a worker of its own.
const path = require('path');
const { Worker } = require('worker_threads');
const { heapBytes } = require('../../web/shared/heap_size.js');

// A describe job has no budget or threads: the bare heap and one pool thread.
function moduleArgsOf(memoryMb, threads) {
  return { INITIAL_MEMORY: heapBytes(memoryMb || 0), poolSize: Math.max(1, (threads || 1) - 1) };
}

// -> { run({ job, json }, onEvent) -> Promise of the exit status }, to call once. job: the
// object, json: its text, the one sent.
function startWasmEngine({ buildDir, memoryMb, threads }) {
  const moduleArgs = moduleArgsOf(memoryMb, threads);
  const cancelFlag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(path.join(__dirname, 'node_engine_worker.js'), {
    workerData: { buildDir, moduleArgs, cancelFlag },
  });
  let onEvent = null;  // set by run() before it sends the job: no event comes earlier
  // Settles with the status the worker posts last, without waiting for the worker to
  // wind down (~10 ms); the engine's prints come the same way, so none is lost.
  const ended = new Promise((resolve, reject) => {
    worker.on('message', (m) => {
      if (m.event) onEvent(JSON.parse(m.event));
      else if (m.print !== undefined) process.stderr.write(m.print + '\n');
      else resolve(m.status);
    });
    worker.on('error', reject);
    worker.on('exit', () => resolve(1));  // no status: it stopped without a result
  });
  ended.catch(() => {});  // a module that fails to start is reported by run(), not as unhandled

  function run({ job, json }, listener) {
    const wanted = moduleArgsOf(job.memory_mb, job.threads);
    if (wanted.INITIAL_MEMORY !== moduleArgs.INITIAL_MEMORY || wanted.poolSize !== moduleArgs.poolSize) {
      worker.terminate();
      return startWasmEngine({ buildDir, memoryMb: job.memory_mb, threads: job.threads }).run({ job, json }, listener);
    }
    let signals = 0;
    const onSignal = () => {
      if (++signals > 1) process.exit(130);  // a second Ctrl-C does not wait
      Atomics.store(cancelFlag, 0, 1);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    onEvent = listener;
    worker.postMessage({ json, outDir: job.out_dir });
    const stopListening = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
    return ended.finally(stopListening);
  }
  return { run };
}

module.exports = { startWasmEngine };
