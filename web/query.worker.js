// The query worker: one small engine kept for the page's visit that answers what needs no
// merge (messages in protocol.js): the method catalogue (a describe job) and what a config
// would write (a plan job: it reads the picked files' headers and writes nothing). A merge
// gets a worker of its own (merge.worker.js), with a heap sized for its budget.
/* global wasmergeProtocol, wasmergeFileTable, wasmergeBlockingReader, wasmergeWorkerHost, wasmergeEngineLoader */
'use strict';
importScripts('protocol.js', 'file_table.js', 'blocking_reader.js', 'worker_host.js', 'engine_loader.js');

const P = wasmergeProtocol;
// The engine's own smallest heap: a describe job needs almost nothing, a plan only the
// headers, and the heap grows should a header be large.
const HEAP_BYTES = 32 * 1024 * 1024;

let engine = null;
let queue = Promise.resolve();  // one job at a time: the engine blocks this thread

// Nothing is written by these jobs: an engine that tried would be a bug, said as such.
const noOutputs = {
  begin() { throw new Error('a query job tried to write a file'); },
  write() {}, finish() { return []; }, abort() {},
};

async function answer({ id, job, files = [] }) {
  if (!engine) engine = await wasmergeEngineLoader.loadEngine({ heapBytes: HEAP_BYTES, threads: 1, host: null });
  const byPath = new Map(files.map(([p, f]) => [wasmergeFileTable.normalizePath(p), f]));
  engine.wasmergeHost = wasmergeWorkerHost.createWorkerHost({
    files: { lookup: (p) => byPath.get(wasmergeFileTable.normalizePath(p)) },
    container: noOutputs,
    cancelFlag: new Int32Array(1),
    readInto: wasmergeBlockingReader.fileReaderSyncReader(),
  });
  const events = [];
  const status = engine.runJob(job, (text) => {
    const event = JSON.parse(text);
    if (event.event !== 'progress') events.push(event);
  });
  self.postMessage({ verb: P.ANSWER, args: { id, status, events } });
}

self.onmessage = ({ data }) => {
  if (data.verb !== P.QUERY) return;
  queue = queue.then(() => answer(data.args)).catch((e) =>
    self.postMessage({ verb: P.FAILED, args: { id: data.args.id, message: e && e.message ? e.message : String(e) } }));
};
