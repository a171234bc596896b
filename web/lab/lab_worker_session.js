// The layer lab worker's work: the engine runs slice and MoE merges of the demo folder held
// in memory and hands back the files it wrote; the page evaluates them (lab_net.js). It
// speaks the playground's protocol (../playground/playground_client.js is the page's side).
//   page -> worker  {verb: 'playground', args: {id, op, ...}}
//     op 'load':   {files: {path: ArrayBuffer}}  the demo folder's files ('lab/config.json', ...)
//     op 'merge':  {config, configText} -> {files: {name: Uint8Array} (model.safetensors,
//                  config.json, ...), warnings: [text], ms}
//   worker -> page  {verb: 'playground', args: {id, ...result}} or {id, error}
import { buildJob } from '../shared/job.js';
import { heapBytes } from '../shared/heap_size.js';
import { normalizePath } from '../file_table.js';
import { createWorkerHost } from '../worker_host.js';
import { loadEngine } from '../engine_loader.js';
import { createMemoryContainer, answerInOrder, playgroundOnMessage } from '../playground/worker_session.js';

const MEMORY_MB = 2;  // the lab's merges are tiny: the smallest budget the engine takes

function createSession(post) {
  let engine = null;
  let files = null;  // Map(normalized path -> {data, size})
  const readInto = (file, offset, dst) => dst.set(file.data.subarray(offset, offset + dst.length));

  function merge({ config, configText }) {
    const t0 = performance.now();
    const container = createMemoryContainer();
    const host = createWorkerHost({ files: { lookup: (p) => files.get(normalizePath(p)) }, container,
      cancelFlag: new Int32Array(1), readInto });
    engine.wasmergeHost = host;
    const events = [];
    const { job } = buildJob({ config, configText, outDir: 'out', threads: 1, memoryMb: MEMORY_MB, outShardSize: Number.MAX_SAFE_INTEGER });
    const status = engine.runJob(JSON.stringify(job), (text) => {
      const event = JSON.parse(text);
      if (event.event !== 'progress') events.push(event);
    });
    if (status !== 0 || host.settled !== 'committed') {
      const e = events.find((x) => x.event === 'error');
      throw new Error(e ? e.message : 'the engine stopped without saying why');
    }
    const out = Object.fromEntries(host.entries.map(({ name, bytes }) => [name, bytes]));
    return { files: out, warnings: events.filter((e) => e.event === 'warning').map((e) => e.message), ms: performance.now() - t0 };
  }

  const ops = {
    async load({ files: given }) {
      if (!engine) engine = await loadEngine({ heapBytes: heapBytes(MEMORY_MB), threads: 1, host: null });
      files = new Map(Object.entries(given).map(([p, buffer]) => [normalizePath(p), { data: new Uint8Array(buffer), size: buffer.byteLength }]));
      return {};
    },
    merge,
  };

  const handle = answerInOrder(post, async ({ op, ...args }) => {
    if (!ops[op]) throw new Error(`unknown lab request '${op}'`);
    if (op !== 'load' && !files) throw new Error('the lab model is not loaded yet');
    const result = await ops[op](args);
    return { result, transfer: result.files ? Object.values(result.files).map((b) => b.buffer) : [] };
  });
  return { handle };
}

export const onMessage = playgroundOnMessage(createSession);
