// The merge worker's work (merge.worker.js starts it): holds the picked File objects,
// loads the wasm engine (the same module the CLI runs under node) and runs one merge job
// on this thread, blocking it; the engine's pthreads do the arithmetic. An evaluation job
// runs the same way, with no output (it writes nothing) and its eval_* events passed on.
// The messages are written down in shared/protocol.js.
import * as P from './shared/protocol.js';
import { heapBytes } from './shared/heap_size.js';
import { normalizePath } from './file_table.js';
import { ZipContainer } from './zip_container.js';
import { startReaderWorker, fileReaderSyncReader } from './blocking_reader.js';
import { createWorkerHost } from './worker_host.js';
import { loadEngine } from './engine_loader.js';

export function onMessage(data) {
  if (data.verb !== P.MERGE) return;
  merge(data.args).catch((e) => post(P.FAILED, { message: e && e.message ? e.message : String(e) }));
}

function post(verb, args) {
  self.postMessage({ verb, args });
}

async function merge({ files, job, memoryMb, threads, cancel, output }) {
  const byPath = new Map(files.map(([p, f]) => [normalizePath(p), f]));
  const table = { lookup: (p) => byPath.get(normalizePath(p)) };

  const out = output ? await openOutput(output) : NO_OUTPUT;
  const reader = await startReaderWorker([...new Set(byPath.values())]);
  const readInto = reader ? reader.read : fileReaderSyncReader();
  const host = createWorkerHost({ files: table, container: out.container, cancelFlag: new Int32Array(cancel), readInto });
  const removeOutput = async () => {
    if (reader) reader.close();
    if (host.settled !== 'committed') {
      try { out.container.abort(); } catch { /* closed already */ }
      await out.remove();
    }
  };

  let engine;
  try {
    engine = await loadEngine({ heapBytes: heapBytes(memoryMb), threads, host });
  } catch (e) {
    await removeOutput();
    throw e;
  }
  post(P.STARTED);

  let outcome = null;
  let lastProgress = 0;
  const status = engine.runJob(job, (text) => {
    const event = JSON.parse(text);
    if (event.event === 'progress') {
      const now = Date.now();
      if (now - lastProgress >= P.PROGRESS_MS || event.bytes_done === event.bytes_total) {
        lastProgress = now;
        post(P.PROGRESS, event);
      }
    } else if (event.event === 'forward') post(P.FORWARD, { layer: event.layer, layers: event.layers });
    // Stamped here, as the engine says it: the page times each model's evaluation from them.
    else if (P.EVAL_EVENTS.includes(event.event)) post(P.EVAL, { ...event, at: performance.now() });
    else if (event.event === 'warning') post(P.WARNING, { message: event.message });
    else outcome = event;
  });
  await removeOutput();
  post(P.FINISHED, { status, outcome, entries: status === P.STATUS.DONE ? host.entries : null, output, heapBytes: host.heapBytes, io: host.io });
}

// A job that writes nothing (eval): a container that refuses writes, and nothing to remove.
const NO_OUTPUT = {
  container: {
    begin() { throw new Error('this job writes no files'); },
    finish: () => [],
    abort() {},
  },
  remove: async () => {},
};

// The result zip in OPFS: {container, remove()}.
async function openOutput(output) {
  const dir = await openOutputDir();
  const fileHandle = await dir.getFileHandle(output, { create: true });
  if (typeof fileHandle.createSyncAccessHandle !== 'function') {
    await dir.removeEntry(output).catch(() => {});
    throw new Error('this browser cannot write files from a worker (no OPFS sync access handles): try a current Chrome, Edge, Firefox or Safari');
  }
  const container = new ZipContainer(await fileHandle.createSyncAccessHandle());
  return { container, remove: () => dir.removeEntry(output).catch(() => {}) };
}

async function openOutputDir() {
  if (!navigator.storage || !navigator.storage.getDirectory)
    throw new Error("this browser has no origin private file system (OPFS) to write the result to");
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(P.OPFS_DIR, { create: true });
}
