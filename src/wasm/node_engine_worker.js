'use strict';
// The worker thread of node_engine.js: instantiates the wasm engine with the node host
// and runs one job, posting each event and then the exit status.
const path = require('path');
const { parentPort, workerData } = require('worker_threads');
const { createNodeHost } = require('./node_host');

const { json, buildDir, cancelFlag, outDir, moduleArgs } = workerData;
const createWasmerge = require(path.join(buildDir, 'wasmerge.js'));
createWasmerge({
  ...moduleArgs,
  wasmergeHost: createNodeHost({ outDir, cancelled: () => Atomics.load(cancelFlag, 0) === 1 }),
  print: (s) => process.stderr.write(s + '\n'),
  printErr: (s) => process.stderr.write(s + '\n'),
}).then((module) => {
  const status = module.runJob(json, (event) => parentPort.postMessage({ event }));
  parentPort.postMessage({ status });
  process.exit(0);  // ends this worker and its pthreads, not the process
});
