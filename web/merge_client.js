// The page's side of the merge worker (messages in protocol.js): starts a worker for one
// merge, relays its events, and cancels it. Cancel sets the shared flag the engine polls
// after every block; should the worker not answer within CANCEL_GRACE_MS (stuck in a
// huge read, say), it is terminated and its partial output removed from here.
import * as P from './shared/protocol.js';

const CANCEL_GRACE_MS = 1500;

async function removeOutput(name) {
  if (!name) return;  // a job that writes nothing
  const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(P.OPFS_DIR, { create: true });
  // A terminated worker's sync access handle lets go of the file shortly after.
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      await dir.removeEntry(name);
      return;
    } catch (e) {
      if (e.name === 'NotFoundError') return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

// args: {files, job, memoryMb, threads, output (null for an eval job)} (protocol.js);
// on: {started(), progress(event), forward(event), warning(message), eval(event)} (an eval
// job's events: eval_start, eval_layer, eval_result).
// -> {promise (resolves to the 'finished' args, or {failed: message}), cancel()}
function startMerge(args, on) {
  const worker = new Worker(new URL('./merge.worker.js', import.meta.url));
  const cancelBuffer = new SharedArrayBuffer(4);
  const cancelFlag = new Int32Array(cancelBuffer);
  let settle;
  const promise = new Promise((resolve) => { settle = resolve; });
  let settled = false;
  const finish = (result) => {
    if (settled) return;
    settled = true;
    worker.terminate();
    settle(result);
  };

  worker.onmessage = ({ data: { verb, args: a } }) => {
    if (verb === P.STARTED) on.started();
    else if (verb === P.PROGRESS) on.progress(a);
    else if (verb === P.FORWARD) on.forward(a);
    else if (verb === P.WARNING) on.warning(a.message);
    else if (verb === P.EVAL) on.eval(a);
    else if (verb === P.FINISHED) finish(a);
    else if (verb === P.FAILED) finish({ failed: a.message });
  };
  worker.onerror = (e) => {
    e.preventDefault();
    removeOutput(args.output).finally(() => finish({ failed: `the merge worker stopped: ${e.message || 'it could not load'}` }));
  };
  worker.postMessage({ verb: P.MERGE, args: { ...args, cancel: cancelBuffer } });

  return {
    promise,
    cancel() {
      Atomics.store(cancelFlag, 0, 1);
      setTimeout(() => {
        if (settled) return;
        worker.terminate();
        removeOutput(args.output).finally(() =>
          finish({ status: P.STATUS.CANCELLED, outcome: { event: 'error', message: 'cancelled', cancelled: true }, entries: null }));
      }, CANCEL_GRACE_MS);
    },
  };
}

export { startMerge, removeOutput };
