// The playground worker's work (playground.worker.js starts it). Unlike a merge, it keeps
// one engine for the page's whole visit and runs many tiny merges on the demo models held
// in memory: each merge is a real engine job, whose output model it reads back and
// evaluates (evaluate.js).
//
//   page -> worker  {verb: 'playground', args: {id, op, ...}}
//     op 'load':    {files: {name: ArrayBuffer}, network}   the demo's files and network
//                   -> {accuracy: {model: {task: acc}}, boundaries: {task: logits}} of
//                      the base and each fine-tune (a fine-tune's boundary is its own task's)
//     op 'merge':   {config, configText, tasks, boundaries: bool, explain: {tensor, offset, count} | null}
//                   -> {accuracy: {task: acc}, boundaries: {task: logits} | null, explain: event | null,
//                       warnings: [text], model: Uint8Array (the merged .safetensors), ms: {engine, evaluate}}
//     op 'batch':   {items: [{config, tasks}]}  many merges, accuracy only
//                   -> {results: [{accuracy} | {error}], ms}
//     op 'analyze': {files: [[path, File]], config}  the engine's per-tensor report of the user's
//                   models; nothing is written -> {reports: [tensor_report events], progress...}
//   worker -> page  {verb: 'playground', args: {id, ...result}} or {id, error}; while
//                   analyzing, {id, progress: event} at most every PROGRESS_MS.

import * as P from '../shared/protocol.js';
import { buildJob } from '../shared/job.js';
import { heapBytes } from '../shared/heap_size.js';
import { normalizePath } from '../file_table.js';
import { fileReaderSyncReader } from '../blocking_reader.js';
import { createWorkerHost } from '../worker_host.js';
import { loadEngine } from '../engine_loader.js';
import { createEvaluator } from './evaluate.js';
import { readF32Tensors } from './safetensors_f32.js';

// Demo merges are tiny: the smallest budget the engine takes for them. The user's
// models are streamed through a larger one when analyzed.
const DEMO_MEMORY_MB = 2;
const ANALYZE_MEMORY_MB = 64;
const MAX_THREADS = 4;
const PROGRESS_MS = 100;

// The engine's outputs, kept in memory: the container interface of zip_container.js
// that worker_host.js writes through (the layer lab's worker keeps its outputs so too).
export function createMemoryContainer() {
  const files = [];
  return {
    begin(name) {
      files.push({ name, chunks: [] });
      return files.length - 1;
    },
    write(handle, src) {
      files[handle].chunks.push(src.slice());  // src is a view of the engine's heap
    },
    finish() {
      return files.map(({ name, chunks }) => {
        const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
        let at = 0;
        for (const c of chunks) { bytes.set(c, at); at += c.length; }
        return { name, bytes };
      });
    },
    abort() {},
  };
}

// Requests answered one at a time, in order (the engine blocks this thread while it runs):
// run(args) -> {result, transfer}, or throws; post({id, ...result} | {id, error}, transfer).
// -> handle(args) (the layer lab's worker answers so too)
export function answerInOrder(post, run) {
  let queue = Promise.resolve();
  return (args) => {
    queue = queue.then(async () => {
      try {
        const { result, transfer } = await run(args);
        post({ id: args.id, ...result }, transfer);
      } catch (e) {
        post({ id: args.id, error: e && e.message ? e.message : String(e) });
      }
    });
  };
}

// post(result, transfer) answers the page.
function createSession(post) {
  const readFile = fileReaderSyncReader();  // the user's picked Files, for 'analyze'
  let engine = null;
  let demo = null;  // {files: Map(name -> {data: Uint8Array, size}), spec, evaluator}

  // A File (the user's) or a demo file held here: {data: Uint8Array, size}.
  const readInto = (file, offset, dst) => {
    if (file instanceof Blob) readFile(file, offset, dst);
    else dst.set(file.data.subarray(offset, offset + dst.length));
  };

  // Runs one engine job over these files; -> {status, events, outputs: [{name, bytes}] | null}
  function runJob(files, job, onEvent = () => {}) {
    const container = createMemoryContainer();
    const host = createWorkerHost({ files: { lookup: (p) => files.get(p) }, container, cancelFlag: new Int32Array(1), readInto });
    engine.wasmergeHost = host;
    const events = [];
    const status = engine.runJob(JSON.stringify(job), (text) => {
      const event = JSON.parse(text);
      if (event.event === 'progress') onEvent(event);
      else events.push(event);
    });
    return { status, events, outputs: host.settled === 'committed' ? host.entries : null };
  }

  // explain: {tensor, offset, count} or null
  function demoJob(config, configText, explain = null) {
    return buildJob({
      config, configText: configText || JSON.stringify(config), outDir: 'out', threads: 1, memoryMb: DEMO_MEMORY_MB,
      outShardSize: Number.MAX_SAFE_INTEGER, explain,
    }).job;
  }

  const failure = (events) => {
    const e = events.find((x) => x.event === 'error');
    return e ? e.message : 'the engine stopped without saying why';
  };

  // -> {weights, model bytes, events} of one demo merge, or throws the engine's error
  function mergeDemo(config, configText, explain) {
    const r = runJob(demo.files, demoJob(config, configText, explain));
    if (r.status !== 0) throw new Error(failure(r.events));
    const model = r.outputs.find((o) => o.name === 'model.safetensors').bytes;
    return { weights: readF32Tensors(model), model, events: r.events };
  }

  const analyzeThreads = Math.max(1, Math.min(MAX_THREADS, navigator.hardwareConcurrency || 1));

  // The host is installed per job (runJob), so none is needed here.
  async function ensureEngine() {
    if (!engine) engine = await loadEngine({ heapBytes: heapBytes(ANALYZE_MEMORY_MB), threads: analyzeThreads, host: null });
  }

  const ops = {
    async load({ files, network }) {
      await ensureEngine();
      demo = {
        files: new Map(Object.entries(files).map(([name, buffer]) => [name, { data: new Uint8Array(buffer), size: buffer.byteLength }])),
        spec: network,
        evaluator: createEvaluator(network),
      };
      const accuracy = {};
      const boundaries = {};
      for (const name of demo.files.keys()) {
        const model = name.replace(/\.safetensors$/, '');
        const weights = readF32Tensors(demo.files.get(name).data);
        accuracy[model] = demo.evaluator.accuracy(weights, network.tasks);
        if (network.tasks.includes(model)) boundaries[model] = demo.evaluator.boundaries(weights, [model])[model];
      }
      return { accuracy, boundaries };
    },

    merge({ config, configText, tasks, boundaries, explain }) {
      const t0 = performance.now();
      const r = mergeDemo(config, configText, explain);
      const t1 = performance.now();
      const result = {
        accuracy: demo.evaluator.accuracy(r.weights, tasks),
        boundaries: boundaries ? demo.evaluator.boundaries(r.weights, tasks) : null,
        explain: r.events.find((e) => e.event === 'explain') || null,
        warnings: r.events.filter((e) => e.event === 'warning').map((e) => e.message),
        model: r.model,
      };
      result.ms = { engine: t1 - t0, evaluate: performance.now() - t1 };
      return result;
    },

    batch({ items }) {
      const t0 = performance.now();
      const results = items.map(({ config, tasks }) => {
        try {
          return { accuracy: demo.evaluator.accuracy(mergeDemo(config).weights, tasks) };
        } catch (e) {
          return { error: e.message };
        }
      });
      return { results, ms: performance.now() - t0 };
    },

    async analyze({ id, files, config }) {
      await ensureEngine();
      // Paths as the merge itself resolves them.
      const picked = new Map(files.map(([p, f]) => [normalizePath(p), f]));
      const byPath = { get: (p) => picked.get(normalizePath(p)) };
      const { job } = buildJob({
        kind: 'analyze', config, configText: JSON.stringify(config), outDir: 'out', threads: analyzeThreads,
        memoryMb: ANALYZE_MEMORY_MB, outShardSize: Number.MAX_SAFE_INTEGER,
      });
      let last = 0;
      const r = runJob(byPath, job, (event) => {
        const now = performance.now();
        if (now - last >= PROGRESS_MS) {
          last = now;
          post({ id, progress: event });
        }
      });
      if (r.status !== 0) throw new Error(failure(r.events));
      return { reports: r.events.filter((e) => e.event === 'tensor_report') };
    },
  };

  const handle = answerInOrder(post, async ({ op, ...args }) => {
    if (!ops[op]) throw new Error(`unknown playground request '${op}'`);
    if (op !== 'load' && op !== 'analyze' && !demo) throw new Error('the demo models are not loaded yet');
    const result = await ops[op](args);
    return { result, transfer: result.model ? [result.model.buffer] : [] };
  });

  return { handle };
}

// -> the worker's onMessage for a session speaking the playground protocol (made on the
// first request): the playground's, and the layer lab's.
export function playgroundOnMessage(createSession) {
  let session = null;
  return (data) => {
    if (data.verb !== P.PLAYGROUND) return;
    if (!session) session = createSession((result, transfer) => self.postMessage({ verb: P.PLAYGROUND, args: result }, transfer));
    session.handle(data.args);
  };
}

export const onMessage = playgroundOnMessage(createSession);
