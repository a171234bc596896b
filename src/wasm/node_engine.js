'use strict';
// Runs a job (see include/wasmerge/job.hpp) on the wasm engine under node. The engine
// runs in a worker thread: runJob blocks its thread for the whole merge, and this
// (main) thread must stay free to turn SIGINT/SIGTERM into a cancel, which the engine
// sees at the next block, discards what it wrote, and reports.
const path = require('path');
const { Worker } = require('worker_threads');
const { heapBytes } = require('../../web/shared/heap_size.js');

// job: { job (the object), json (its text, the one sent) }; resolves the exit status.
function runWasmJob({ job, json }, onEvent, { buildDir }) {
  const cancelFlag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(path.join(__dirname, 'node_engine_worker.js'), {
    workerData: {
      json,
      buildDir,
      cancelFlag,
      outDir: job.out_dir,
      // A describe job has no budget or threads: the bare heap and one pool thread.
      moduleArgs: { INITIAL_MEMORY: heapBytes(job.memory_mb || 0), poolSize: Math.max(1, (job.threads || 1) - 1) },
    },
  });
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(130);  // a second Ctrl-C does not wait
    Atomics.store(cancelFlag, 0, 1);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return new Promise((resolve, reject) => {
    let status = null;
    worker.on('message', (m) => {
      if (m.event) onEvent(JSON.parse(m.event));
      else status = m.status;
    });
    worker.on('error', reject);
    worker.on('exit', () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(status === null ? 1 : status);
    });
  });
}

module.exports = { runWasmJob };
