'use strict';
// Runs a job (see include/wasmerge/job.hpp) on the wasm engine inside this node process.
const path = require('path');
const { createNodeHost } = require('./node_host');
const { heapBytes } = require('../../web/heap_size');

// job: { job (the object), json (its text, the one sent) }
async function runWasmJob({ job, json }, onEvent, { buildDir, cancelled } = {}) {
  const createWasmerge = require(path.join(buildDir, 'wasmerge.js'));
  const module = await createWasmerge({
    INITIAL_MEMORY: heapBytes(job.memory_mb),
    poolSize: Math.max(1, job.threads - 1),  // the calling thread is the other one
    wasmergeHost: createNodeHost({ outDir: job.out_dir, cancelled }),
    print: (s) => process.stderr.write(s + '\n'),
    printErr: (s) => process.stderr.write(s + '\n'),
  });
  return module.runJob(json, (event) => onEvent(JSON.parse(event)));
}

module.exports = { runWasmJob, heapBytes };
