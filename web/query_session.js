// The query worker's work (query.worker.js starts it): one small engine kept for the
// page's visit that answers what needs no merge (messages in shared/protocol.js): the
// method catalogue (a describe job) and what a config would write (a plan job: it reads
// the picked files' headers and writes nothing). A merge gets a worker of its own
// (merge.worker.js), with a heap sized for its budget.
import * as P from './shared/protocol.js';
import { normalizePath } from './file_table.js';
import { fileReaderSyncReader } from './blocking_reader.js';
import { createWorkerHost } from './worker_host.js';
import { loadEngine } from './engine_loader.js';

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
  if (!engine) engine = await loadEngine({ heapBytes: HEAP_BYTES, threads: 1, host: null });
  const byPath = new Map(files.map(([p, f]) => [normalizePath(p), f]));
  engine.wasmergeHost = createWorkerHost({
    files: { lookup: (p) => byPath.get(normalizePath(p)) },
    container: noOutputs,
    cancelFlag: new Int32Array(1),
    readInto: fileReaderSyncReader(),
  });
  const events = [];
  const status = engine.runJob(job, (text) => {
    const event = JSON.parse(text);
    if (event.event !== 'progress') events.push(event);
  });
  self.postMessage({ verb: P.ANSWER, args: { id, status, events } });
}

export function onMessage(data) {
  if (data.verb !== P.QUERY) return;
  queue = queue.then(() => answer(data.args)).catch((e) =>
    self.postMessage({ verb: P.FAILED, args: { id: data.args.id, message: e && e.message ? e.message : String(e) } }));
}
