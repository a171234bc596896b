// The page: wires the pickers, the form and YAML, the merge worker, the progress bar and
// the result. Each piece lives in its own file; this one only connects them.
import * as P from './shared/protocol.js';
import { formatBytes, formatDuration } from './shared/format.js';
import { buildJob, DEFAULT_MEMORY_MB, DEFAULT_OUT_SHARD_SIZE } from './shared/job.js';
import { detect, missingForMerge } from './features.js';
import { buildFileTable } from './file_table.js';
import { attach as attachFilePicker } from './file_picker.js';
import { createConfigForm } from './config_form.js';
import { createEngineQueries } from './engine_queries.js';
import { createPlanPreview } from './plan_preview.js';
import { startMerge } from './merge_client.js';
import { createProgressView } from './progress_view.js';
import { createResultView, removeStaleOutputs } from './result_view.js';
import { mount as mountPlayground } from './playground/playground.js';

const $ = (id) => document.getElementById(id);
const features = detect();
const missing = missingForMerge(features);

let picked = [];      // [{path, file}] the user's picks, in order
let demoShown = false;
let table = buildFileTable([]);
let running = null;   // the merge in progress: {cancel()}
let lastRun = null;   // the last merge's 'finished' message and time, for scripts/bench_browser.js
self.wasmergeLastRun = () => lastRun;
// The engine's answers that need no merge: its method catalogue, the plan of a config.
const queries = createEngineQueries();

// ---- status line ----
function say(text, kind = 'info') {
  const status = $('status');
  status.textContent = text;
  status.className = `status ${kind}`;
}

// ---- capabilities, isolation, offline ----
function showCapabilities(offline) {
  const items = [
    ['Threads', features.threads, `WebAssembly threads: ${features.cores} cores`],
    ['SIMD', features.simd, 'WebAssembly SIMD'],
    ['Private storage', features.opfs, 'Origin private file system (the result is written there)'],
    ['Works offline', offline, 'A service worker keeps the app available offline'],
  ];
  $('capabilities').replaceChildren(...items.map(([label, ok, title]) => {
    const li = document.createElement('li');
    li.textContent = label;
    li.title = `${title}: ${ok ? 'yes' : 'no'}`;
    li.className = ok ? 'yes' : 'no';
    return li;
  }));
}

function showMissing() {
  if (!missing.length) return;
  const notice = $('notice');
  notice.hidden = false;
  notice.textContent = `This browser cannot run the merge engine here: it lacks ${missing.join(', ')}. ` +
    'You can still pick models and write the config on this page, then run it with the command line ' +
    '(scripts/wasmerge CONFIG OUT_DIR), which gives the same bytes.';
}

// On static hosts that cannot send COOP/COEP, sw.js adds them; the page has to be loaded
// through it once to become cross-origin isolated.
function registerServiceWorker() {
  if (!('serviceWorker' in navigator) || !/^https?:$/.test(location.protocol)) return;
  // Active means installed, and installing it cached the app.
  navigator.serviceWorker.ready.then(() => showCapabilities(true));
  navigator.serviceWorker.register('sw.js').then(() => {
    if (self.crossOriginIsolated || sessionStorage.getItem('wasmerge-isolation-reload')) return;
    const reload = () => {
      sessionStorage.setItem('wasmerge-isolation-reload', '1');
      location.reload();
    };
    if (navigator.serviceWorker.controller) reload();
    else navigator.serviceWorker.addEventListener('controllerchange', reload, { once: true });
  }, () => showCapabilities(false));
}

// ---- picking files ----
function setFiles(entries) {
  picked = entries;
  table = buildFileTable(picked);
  $('clear-files').hidden = picked.length === 0;
  preview.changed();
}

function onPick(entries) {
  if (running) return;
  if (demoShown) {
    demoShown = false;
    $('demo-banner').hidden = true;
    setFiles([]);
  }
  setFiles([...picked, ...entries]);
  form.filesChanged();
  result.clear();
  say(`${table.models.length} model${table.models.length === 1 ? '' : 's'} among ${picked.length} picked file${picked.length === 1 ? '' : 's'}.`);
}

// The built-in demo (web/demo/, made by scripts/make_demo.js): shown on first load so
// Merge works before anything is picked.
async function showDemo() {
  try {
    const manifest = await (await fetch('demo/demo.json')).json();
    const config = await (await fetch(`demo/${manifest.config}`)).text();
    const entries = await Promise.all(manifest.files.map(async (name) => {
      const blob = await (await fetch(`demo/${name}`)).blob();
      return { path: name, file: new File([blob], name) };
    }));
    if (picked.length || running || form.current().text.trim()) return;  // the user was quicker
    setFiles(entries);
    demoShown = true;
    $('demo-banner').hidden = false;
    $('clear-files').hidden = true;
    form.setGeneratedText(config);
  } catch (e) {
    console.warn('demo not loaded', e);
  }
}

// ---- the form and YAML ----
const form = createConfigForm({
  el: {
    method: $('method'), methodAbout: $('method-about'), lambda: $('lambda'), normalize: $('normalize'), seed: $('seed'),
    dtype: $('dtype'), table: $('models-table'), slicesNote: $('slices-note'), textarea: $('config'),
    syncState: $('sync-state'), error: $('config-error'),
  },
  getTable: () => table,
  onChange: () => preview.changed(),
});

// What the merge will write (a plan job), said while the config is edited.
const preview = createPlanPreview({
  el: { root: $('plan'), summary: $('plan-summary'), layerMap: $('layer-map') },
  queries,
  inputs() {
    const { text, config, error } = form.current();
    if (missing.length || error || !text.trim() || !table.size || !config.merge_method) return null;
    const memoryMb = /^\d+$/.test($('memory-mb').value.trim()) ? Number($('memory-mb').value) : DEFAULT_MEMORY_MB;
    return { files: table.entries(), config, text, memoryMb: Math.max(1, memoryMb) };
  },
});

// ---- merging ----
const progress = createProgressView({
  bar: $('progress'), fill: $('progress-fill'), stats: $('progress-stats'), tensor: $('progress-tensor'),
});
const result = createResultView({
  el: { root: $('result'), download: $('download'), saveFolder: $('save-folder'), files: $('result-files'),
    layerMap: $('result-layer-map') },
  canSaveToFolder: features.saveToFolder,
  onMessage: say,
});

function setRunning(value) {
  $('merge').disabled = value;
  $('cancel').disabled = !value;
  $('files').disabled = value;
  $('folders').disabled = value;
  $('clear-files').disabled = value;
  form.setDisabled(value);
}

function positiveIntField(id, label) {
  const text = $(id).value.trim();
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new Error(`${label} must be a whole number of at least 1, not “${text}”.`);
  return Number(text);
}

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

// document.body.dataset.mergeState: idle | checking | running | done | failed | cancelled,
// a stable hook for the page's automated tests.
const setState = (state) => { document.body.dataset.mergeState = state; };

async function merge() {
  const outcome = await runMerge();
  setState(outcome);
}

// -> 'done' | 'failed' | 'cancelled'
async function runMerge() {
  setState('checking');
  const { text, config, error } = form.current();
  if (missing.length) return fail(`Merging needs ${missing.join(', ')}, which this browser lacks here.`);
  if (error) return fail(`The config has an error: ${error}`);
  if (!text.trim()) return fail('Write a config, or pick model files: the form fills one in.');
  if (!table.size) return fail('Pick the model files to merge first (or reload the page for the demo).');
  let memoryMb, threads;
  try {
    memoryMb = positiveIntField('memory-mb', 'The memory budget');
    threads = positiveIntField('threads', 'Threads');
  } catch (e) {
    return fail(e.message);
  }
  // The plan says what will be written before anything is: a config or file error ends
  // here, and the storage is checked against the plan's exact sizes.
  let plan = null;
  try {
    ({ plan } = await preview.plan({ files: table.entries(), config, text, memoryMb }));
  } catch (e) {
    if (e.fromEngine) return fail(`Merge failed: ${e.message}`);
    console.warn('no plan: the merge goes ahead without the storage check', e);
  }
  const quotaProblem = plan && await checkQuota(plan).catch(() => null);
  if (quotaProblem) return fail(quotaProblem);

  let json;
  try {
    // mergekit's (and the CLI's) 5 GB shards, so the page writes what scripts/wasmerge does.
    ({ json } = buildJob({
      config, configText: text, outDir: 'out', threads, memoryMb, outShardSize: DEFAULT_OUT_SHARD_SIZE,
    }));
  } catch (e) {
    return fail(e.message);
  }

  result.clear();
  setState('running');
  $('warnings').hidden = true;
  $('warnings').replaceChildren();
  setRunning(true);
  say('Starting the engine…');
  progress.starting('Starting the engine…');
  const output = `merge-${Date.now()}.zip`;
  running = startMerge(
    { files: table.entries(), job: json, memoryMb, threads, output },
    {
      started: () => say('Merging…'),
      progress: (event) => progress.update(event),
      warning: (message) => {
        const li = document.createElement('li');
        li.textContent = message;
        $('warnings').append(li);
        $('warnings').hidden = false;
      },
    });
  const r = await running.promise;
  lastRun = { ...r, seconds: progress.elapsedSeconds() };
  running = null;
  setRunning(false);
  const seconds = progress.elapsedSeconds();
  if (r.failed) {
    progress.finished('Stopped.', { ok: false });
    say(`The merge could not run: ${r.failed}`, 'error');
    return 'failed';
  } else if (r.status === P.STATUS.DONE) {
    progress.finished(`Done in ${formatDuration(seconds)}.`, { ok: true });
    try {
      await result.show({ output: r.output, entries: r.entries, plan });
      say(`Merged ${r.outcome.tensor_count} tensors (${formatBytes(r.outcome.tensor_bytes)}) in ${seconds.toFixed(1)} s. ` +
        'The result is stored in this browser until you leave the page.', 'ok');
    } catch (e) {
      say(`The merge finished, but its file could not be opened: ${e.message}`, 'error');
      return 'failed';
    }
    return 'done';
  } else if (r.status === P.STATUS.CANCELLED) {
    progress.finished('Cancelled.', { ok: false });
    say('Cancelled. Nothing was kept.', 'info');
    return 'cancelled';
  } else {
    progress.finished('Failed.', { ok: false });
    say(`Merge failed: ${r.outcome ? r.outcome.message : `the engine stopped (exit ${r.status})`}`, 'error');
  }
  return 'failed';
}

function fail(message) {
  say(message, 'error');
  return 'failed';
}

// ---- wiring ----
$('threads').value = String(features.cores);
$('merge').addEventListener('click', () => {
  const busy = ['checking', 'running'].includes(document.body.dataset.mergeState);
  if (!busy) merge().catch((e) => { running = null; setRunning(false); setState('failed'); say(`Unexpected problem: ${e.message}`, 'error'); });
});
$('cancel').addEventListener('click', () => {
  if (!running) return;
  say('Cancelling…');
  running.cancel();
});
$('clear-files').addEventListener('click', () => {
  setFiles([]);
  form.filesChanged();
  result.clear();
  say('');
});
$('download').addEventListener('click', (e) => { if (!$('download').href) e.preventDefault(); });
attachFilePicker({
  inputs: [$('files'), $('folders')],
  zone: $('dropzone'),
  onPick,
  onError: (e) => say(`Could not read what was dropped: ${e.message}`, 'error'),
});

// ---- the merging playground (web/playground/), first on the page; its per-layer report
// reads the models picked here ----
if (missing.length) $('playground').textContent = `The merging playground runs the merge engine, which needs ${missing.join(', ')}.`;
else mountPlayground($('playground'), {
  methods: () => queries.methods(),
  selection: () => (table.size ? { files: table.entries(), config: form.current().config } : null),
}).catch((e) => console.warn('the playground stopped', e));

// The method list, and what each method takes, come from the engine (a describe job on a
// small engine in the query worker), once per visit.
async function loadCatalogue() {
  if (missing.length) return;
  try {
    form.setCatalogue(await queries.methods());
  } catch (e) {
    say(`The engine could not list its methods: ${e.message}`, 'error');
  }
}

setState('loading');
$('memory-mb').value = String(DEFAULT_MEMORY_MB);
showCapabilities(false);
showMissing();
registerServiceWorker();
form.filesChanged();
Promise.all([removeStaleOutputs(), showDemo(), loadCatalogue()]).finally(() => setState('idle'));
