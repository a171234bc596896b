'use strict';
// The worker thread of node_engine.js: instantiates the wasm engine, then waits for its
// one job, runs it with the node host, and posts each event and then the exit status.
const fs = require('fs');
const path = require('path');
const { parentPort, workerData } = require('worker_threads');
const { createNodeHost } = require('./node_host');

const { buildDir, cancelFlag, moduleArgs } = workerData;
const jobArrives = new Promise((resolve) => parentPort.once('message', resolve));
const createWasmerge = require(path.join(buildDir, 'wasmerge.js'));
const engineReady = createWasmerge({
  ...moduleArgs,
  // Handed over, so that Emscripten 3.1.6 does not fetch() it (node >= 18 has fetch, which
  // cannot read a file path) whether or not node runs with --no-experimental-fetch.
  wasmBinary: fs.readFileSync(path.join(buildDir, 'wasmerge.wasm')),
  print: (s) => parentPort.postMessage({ print: s }),
  printErr: (s) => parentPort.postMessage({ print: s }),
});
Promise.all([engineReady, jobArrives]).then(([module, { json, outDir }]) => {
  module.wasmergeHost = createNodeHost({ outDir, cancelled: () => Atomics.load(cancelFlag, 0) === 1 });
  const status = module.runJob(json, (event) => parentPort.postMessage({ event }));
  parentPort.postMessage({ status });
  process.exit(0);  // ends this worker and its pthreads, not the process
});
