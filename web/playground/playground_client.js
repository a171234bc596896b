// The page's side of the playground's worker (playground.worker.js; messages in
// worker_session.js): one worker kept for the visit, requests matched to answers by id,
// and a scheduler that keeps the sliders responsive while the charts run hundreds of
// merges: the page has at most one request in the worker at a time, the newest control
// change goes first, and chart merges go in small batches between them.
import * as P from '../shared/protocol.js';

function createClient(workerUrl = new URL('./playground.worker.js', import.meta.url)) {
  const worker = new Worker(workerUrl);
  const pending = new Map();
  let nextId = 1;
  let broken = null;

  worker.onmessage = ({ data }) => {
    if (!data || data.verb !== P.PLAYGROUND) return;
    const answer = data.args;
    const p = pending.get(answer.id);
    if (!p) return;
    if (answer.progress) {
      if (p.onProgress) p.onProgress(answer.progress);
      return;
    }
    pending.delete(answer.id);
    if (answer.error) p.reject(new Error(answer.error));
    else p.resolve(answer);
  };
  worker.onerror = (e) => {
    e.preventDefault();
    broken = new Error(`the playground's worker stopped: ${e.message || 'it could not load'}`);
    for (const p of pending.values()) p.reject(broken);
    pending.clear();
  };

  // -> a promise of the answer (rejected with the worker's error message)
  function request(op, args = {}, { transfer = [], onProgress } = {}) {
    if (broken) return Promise.reject(broken);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, onProgress });
      worker.postMessage({ verb: P.PLAYGROUND, args: { ...args, id, op } }, transfer);
    });
  }

  return { request };
}

// Work for the worker, one request at a time:
//   latest(args): an interactive merge; only the newest one not yet started is kept;
//   later(op, args): a chart's batch, run when no interactive merge has been asked for
//     in the last QUIET_MS (while a slider moves, its merges run back to back);
//   now(op, args): anything else, before the charts.
// Each returns a promise of the answer; a superseded latest() resolves to null.
const QUIET_MS = 300;
function createScheduler(client) {
  let busy = false;
  let interactive = null;   // {args, resolve, reject}
  let lastInteractive = -Infinity;
  let wake = null;
  const urgent = [];
  const background = [];

  function next() {
    if (interactive) {
      const job = { op: 'merge', ...interactive };
      interactive = null;
      return job;
    }
    if (urgent.length) return urgent.shift();
    const quietFor = performance.now() - lastInteractive;
    if (background.length && quietFor < QUIET_MS) {
      clearTimeout(wake);
      wake = setTimeout(pump, QUIET_MS - quietFor);
      return null;
    }
    return background.shift() || null;
  }

  function pump() {
    if (busy) return;
    const job = next();
    if (!job) return;
    busy = true;
    client.request(job.op, job.args, job.options).then(job.resolve, job.reject).finally(() => {
      busy = false;
      pump();
    });
  }

  function latest(args) {
    lastInteractive = performance.now();
    return new Promise((resolve, reject) => {
      if (interactive) interactive.resolve(null);
      interactive = { args, resolve, reject };
      pump();
    });
  }

  const enqueue = (list) => (op, args, options) => new Promise((resolve, reject) => {
    list.push({ op, args, options, resolve, reject });
    pump();
  });

  return { latest, now: enqueue(urgent), later: enqueue(background) };
}

export { createClient, createScheduler };
