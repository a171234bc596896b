'use strict';
// Runs a job (see include/wasmerge/job.hpp) on the wasm engine inside this node process.
const path = require('path');
const { createNodeHost } = require('./node_host');

const MiB = 1024 * 1024;
// Besides the engine's budget: code, stacks, the thread pool's scratch and headers.
const HEAP_OVERHEAD = 96 * MiB;
const MAX_HEAP = 4096 * MiB - 64 * 1024;

function heapBytes(memoryMb) {
  const bytes = memoryMb * MiB + HEAP_OVERHEAD;
  return Math.min(MAX_HEAP, Math.ceil(bytes / (64 * 1024)) * 64 * 1024);
}

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
