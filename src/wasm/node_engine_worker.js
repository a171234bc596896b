'use strict';
// The worker thread of node_engine.js: instantiates the wasm engine, then waits for its
// one job, runs it with the node host, and posts each event and then the exit status.
const path = require('path');
const { parentPort, workerData } = require('worker_threads');
const { createNodeHost } = require('./node_host');

const { buildDir, cancelFlag, moduleArgs } = workerData;
const jobArrives = new Promise((resolve) => parentPort.once('message', resolve));
const createWasmerge = require(path.join(buildDir, 'wasmerge.js'));
const engineReady = createWasmerge({
  ...moduleArgs,
  print: (s) => parentPort.postMessage({ print: s }),
  printErr: (s) => parentPort.postMessage({ print: s }),
});
Promise.all([engineReady, jobArrives]).then(([module, { json, outDir }]) => {
  module.wasmergeHost = createNodeHost({ outDir, cancelled: () => Atomics.load(cancelFlag, 0) === 1 });
  const status = module.runJob(json, (event) => parentPort.postMessage({ event }));
  parentPort.postMessage({ status });
  process.exit(0);  // ends this worker and its pthreads, not the process
});
