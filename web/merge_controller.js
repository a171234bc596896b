// One merge from the page, start to end: the checks that need no engine, the plan (a
// config or file error stops here; the browser's storage is checked against the plan's
// exact sizes), the merge worker (merge_client.js) with its progress and warnings, and the
// outcome in words, with the result shown (result_view.js). The extract mode's job (a LoRA
// adapter, extract_form.js) runs the same way, with no config, plan or storage check: its
// adapter is small next to the models it reads.
import * as P from './shared/protocol.js';
import { formatBytes, formatDuration } from './shared/format.js';
import { buildJob, DEFAULT_OUT_SHARD_SIZE } from './shared/job.js';
import { startMerge } from './merge_client.js';
import { readPromptTokens } from './prompt_files.js';
import { isUpcycleConfig, gateMode } from './shared/prompt_tokens.js';

// Besides the weights the plan sizes exactly, the merge writes the model card and, from a
// folder, config.json and the tokenizer files: small copies.
const STORAGE_SLACK = 16 * 1024 * 1024;

async function checkQuota(plan) {
  if (!navigator.storage || !navigator.storage.estimate) return null;
  const needed = plan.files.reduce((n, f) => n + f.bytes, 0) + STORAGE_SLACK;
  const { quota = Infinity, usage = 0 } = await navigator.storage.estimate();
  const free = quota - usage;
  if (needed > free)
    return `Not enough browser storage for the result: it needs about ${formatBytes(needed)}, and this page may ` +
      `use ${formatBytes(Math.max(0, free))} more. Browsers give a site a share of the free disk: free some disk space ` +
      '(or clear this site’s stored data), then merge again.';
  return null;
}

// missing: what this browser lacks for a merge, in words; form, preview, progress, result:
// the page's views; files() -> [[path, File]] of the picks; settings() -> {memoryMb,
// threads}, throwing an Error that says what is wrong with them; say(text, kind): the
// status line; busy(bool): a merge is running; warning(message): one of the engine's.
function createMergeController({ missing, form, preview, progress, result, files, settings, say, busy, warning }) {
  let running = null;  // the merge in progress: merge_client.js's {promise, cancel()}
  let lastRun = null;

  const fail = (message) => {
    say(message, 'error');
    return 'failed';
  };

  // -> 'done' | 'failed' | 'cancelled'
  async function run() {
    const { text, config, error, mode } = form.current();
    const extracting = mode === 'extract';
    const picked = files();
    if (missing.length) return fail(`Merging needs ${missing.join(', ')}, which this browser lacks here.`);
    if (error && !extracting) return fail(`The config has an error: ${error}`);
    if (!text.trim() && !extracting) return fail('Write a config, or pick model files: the form fills one in.');
    if (!picked.length) return fail('Pick the model files to merge first (or reload the page for the demo).');
    let memoryMb, threads;
    try {
      ({ memoryMb, threads } = settings());
    } catch (e) {
      return fail(e.message);
    }
    let plan = null;
    if (!extracting) try {
      ({ plan } = await preview.plan({ files: picked, config, text, memoryMb }));
    } catch (e) {
      if (e.fromEngine) return fail(`Merge failed: ${e.message}`);
      console.warn('no plan: the merge goes ahead without the storage check', e);
    }
    const quotaProblem = !extracting && plan && await checkQuota(plan).catch(() => null);
    if (quotaProblem) return fail(quotaProblem);

    let json;
    try {
      if (extracting) ({ json } = form.extractJob({ outDir: 'out', threads, memoryMb }));
      else {
        // An upcycling config's prompts, tokenized here with the base's tokenizer (the engine has none).
        const promptTokens = await readPromptTokens(config, picked);
        // mergekit's (and the CLI's) 5 GB shards, so the page writes what scripts/wasmerge does.
        ({ json } = buildJob({ config, configText: text, outDir: 'out', threads, memoryMb, outShardSize: DEFAULT_OUT_SHARD_SIZE,
          promptTokens }));
      }
    } catch (e) {
      return fail(e.message);
    }

    result.clear();
    busy(true);
    say('Starting the engine…');
    progress.starting('Starting the engine…');
    running = startMerge({ files: picked, job: json, memoryMb, threads, output: `merge-${Date.now()}.zip` }, {
      started: () => say(extracting ? 'Extracting…' : 'Merging…'),
      progress: (event) => progress.update(event),
      forward: (event) => progress.forward(event, { embedOnly: gateMode(config) === 'cheap_embed' }),
      warning,
    });
    let r;
    try {
      r = await running.promise;
    } finally {
      running = null;
      busy(false);
    }
    const seconds = progress.elapsedSeconds();
    lastRun = { ...r, seconds };
    if (r.failed) {
      progress.finished('Stopped.', { ok: false });
      return fail(`The merge could not run: ${r.failed}`);
    }
    if (r.status === P.STATUS.CANCELLED) {
      progress.finished('Cancelled.', { ok: false });
      say('Cancelled. Nothing was kept.', 'info');
      return 'cancelled';
    }
    if (r.status !== P.STATUS.DONE) {
      progress.finished('Failed.', { ok: false });
      return fail(`Merge failed: ${r.outcome ? r.outcome.message : `the engine stopped (exit ${r.status})`}`);
    }
    progress.finished(`Done in ${formatDuration(seconds)}.`, { ok: true });
    try {
      await result.show({ output: r.output, entries: r.entries, plan, zipName: extracting ? 'lora-adapter.zip' : undefined,
        config: extracting ? null : config });
    } catch (e) {
      return fail(`The merge finished, but its file could not be opened: ${e.message}`);
    }
    const done = extracting ? 'Extracted the adapter: wrote' : isUpcycleConfig(config) ? 'Upcycled: wrote' : 'Merged';
    say(`${done} ${r.outcome.tensor_count} tensors (${formatBytes(r.outcome.tensor_bytes)}) in ${seconds.toFixed(1)} s` +
      `${timeSplit(r)}. The result is stored in this browser until you leave the page.`, 'ok');
    return 'done';
  }

  return {
    run,
    cancel() {
      if (!running) return false;
      running.cancel();
      return true;
    },
    get running() { return Boolean(running); },
    // The last merge's 'finished' message and time (scripts/bench_browser.js reads it).
    get lastRun() { return lastRun; },
  };
}

// Where a merge's time went: waiting for reads, computing, writing (with its checksum).
// They overlap (the next block is read and the last one written while this one is
// computed), so they add up to more than the wall time when the overlap works.
function timeSplit({ outcome, io }) {
  if (!io || outcome.compute_seconds === undefined) return '';
  return ` (waiting for reads ${io.readSeconds.toFixed(1)} s, computing ${outcome.compute_seconds.toFixed(1)} s, ` +
    `writing ${io.writeSeconds.toFixed(1)} s, overlapped)`;
}

export { createMergeController };
