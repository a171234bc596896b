// The page's side of the query worker (query.worker.js; messages in protocol.js): the
// engine's method catalogue, asked once and kept for the visit, and the plan of a config
// (what a merge would write, from the headers alone). Everything the page shows about
// methods comes from the catalogue: no page file lists them.
import * as P from './shared/protocol.js';
import * as job from './shared/job.js';

function createEngineQueries(workerUrl = new URL('./query.worker.js', import.meta.url)) {
  let worker = null;
  let broken = null;
  let nextId = 1;
  const pending = new Map();
  let catalogue = null;

  function start() {
    worker = new Worker(workerUrl);
    worker.onmessage = ({ data: { verb, args } }) => {
      const p = pending.get(args.id);
      if (!p) return;
      pending.delete(args.id);
      if (verb === P.ANSWER) p.resolve(args);
      else p.reject(new Error(args.message));
    };
    worker.onerror = (e) => {
      e.preventDefault();
      broken = new Error(`the engine's query worker stopped: ${e.message || 'it could not load'}`);
      for (const p of pending.values()) p.reject(broken);
      pending.clear();
    };
  }

  // -> {status, events} of one job (its JSON text) over these files ([[path, File]])
  function run(json, files = []) {
    if (!worker) start();
    if (broken) return Promise.reject(broken);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ verb: P.QUERY, args: { id, job: json, files } });
    });
  }

  // The one event a job answers with (kind 'methods' or 'plan'), and its warnings; the
  // engine's error as the rejection (marked fromEngine: the config or files are at fault,
  // not the worker).
  async function ask(json, files, expected) {
    const { status, events } = await run(json, files);
    const error = events.find((e) => e.event === 'error');
    if (error) throw Object.assign(new Error(error.message), { fromEngine: true });
    const answer = events.find((e) => e.event === expected);
    if (status !== 0 || !answer) throw new Error(`the engine answered no ${expected} (exit ${status})`);
    return { answer, warnings: events.filter((e) => e.event === 'warning').map((e) => e.message) };
  }

  return {
    // -> the catalogue's methods, in the engine's order (the order to show them)
    methods() {
      if (!catalogue) {
        catalogue = ask(job.buildJob({ kind: 'describe' }).json, [], 'methods').then(({ answer }) => answer.methods);
        catalogue.catch(() => { catalogue = null; });  // a later call asks again
      }
      return catalogue;
    },
    // planJob: buildJob({kind: 'plan', ...}).json; files: [[path, File]]
    // -> {plan (the plan event), warnings: [text]}
    plan(planJob, files) {
      return ask(planJob, files, 'plan').then(({ answer, warnings }) => ({ plan: answer, warnings }));
    },
  };
}

export { createEngineQueries };
