// The page: wires the pickers, the form and YAML, the plan preview, the merge, the progress
// bar and the result. Each piece lives in its own file; this one only connects them.
import { DEFAULT_MEMORY_MB } from './shared/job.js';
import { isUpcycleConfig } from './shared/prompt_tokens.js';
import { detect, missingForMerge } from './features.js';
import { buildFileTable } from './file_table.js';
import { attach as attachFilePicker } from './file_picker.js';
import { createConfigForm } from './config_form.js';
import { createEngineQueries } from './engine_queries.js';
import { createPlanPreview } from './plan_preview.js';
import { createMergeController } from './merge_controller.js';
import { createProgressView } from './progress_view.js';
import { createResultView, removeStaleOutputs } from './result_view.js';
import { mount as mountPlayground } from './playground/playground.js';
import { mount as mountLab } from './lab/lab.js';
import { createEvalPanel } from './eval_panel.js';

const $ = (id) => document.getElementById(id);
const features = detect();
const missing = missingForMerge(features);

let picked = [];      // [{path, file}] the user's picks, in order
let demoShown = false;
let table = buildFileTable([]);
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
  evals.filesChanged();
}

function onPick(entries) {
  if (merges.running || evals.running) return;
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
    if (picked.length || merges.running || form.current().text.trim()) return;  // the user was quicker
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
    method: $('method'), methodAbout: $('method-about'), methodList: $('method-list'), methodCount: $('method-count'),
    params: $('param-fields'), methodCheck: $('method-check'), seed: $('seed'),
    dtype: $('dtype'), table: $('models-table'), slicesNote: $('slices-note'), textarea: $('config'),
    syncState: $('sync-state'), error: $('config-error'),
    modeMerge: $('mode-merge'), modeUpcycle: $('mode-upcycle'), modeExtract: $('mode-extract'),
    mergeOnly: [$('method-pick'), $('method-list-box')], upcycleFields: $('upcycle-fields'),
    upcycle: {
      base: $('upcycle-base'), gateMode: $('upcycle-gate-mode'), gateCost: $('upcycle-gate-cost'), perToken: $('upcycle-per-token'),
      shared: $('upcycle-shared'), sourcePicked: $('upcycle-source-picked'), sourceCopies: $('upcycle-source-copies'),
      copies: $('upcycle-copies'), experts: $('upcycle-experts'),
    },
    extractFields: $('extract-fields'), configOnly: [...document.querySelectorAll('[data-config-only]')],
    extract: {
      base: $('extract-base'), model: $('extract-model'), rank: $('extract-rank'), svEpsilon: $('extract-sv-epsilon'),
      distributeScale: $('extract-distribute-scale'), embedLora: $('extract-embed-lora'),
    },
  },
  getTable: () => table,
  onChange: ({ config, mode }) => {
    $('merge').textContent = mode === 'extract' ? 'Extract' : isUpcycleConfig(config) ? 'Upcycle' : 'Merge';
    preview.changed();
  },
});

// What the merge will write (a plan job), said while the config is edited.
const preview = createPlanPreview({
  el: { root: $('plan'), summary: $('plan-summary'), layerMap: $('layer-map') },
  queries,
  inputs() {
    const { text, config, error, mode } = form.current();
    if (mode === 'extract') return null;  // no plan job for an extraction: nothing to preview
    if (missing.length || error || !text.trim() || !table.size || !(config.merge_method || isUpcycleConfig(config))) return null;
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
  onChange: (shown) => evals.setMerge(shown),
});

function positiveIntField(id, label) {
  const text = $(id).value.trim();
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new Error(`${label} must be a whole number of at least 1, not “${text}”.`);
  return Number(text);
}

// The engine settings (memory budget, threads) merges and evaluations run with.
const engineSettings = () => ({ memoryMb: positiveIntField('memory-mb', 'The memory budget'), threads: positiveIntField('threads', 'Threads') });

const merges = createMergeController({
  missing, form, preview, progress, result,
  files: () => table.entries(),
  settings: engineSettings,
  say,
  busy(value) {
    for (const id of ['merge', 'files', 'folders', 'clear-files']) $(id).disabled = value;
    $('cancel').disabled = !value;
    form.setDisabled(value);
    evals.setDisabled(value);
    if (value) {
      setState('running');
      $('warnings').hidden = true;
      $('warnings').replaceChildren();
    }
  },
  warning(message) {
    const li = document.createElement('li');
    li.textContent = message;
    $('warnings').append(li);
    $('warnings').hidden = false;
  },
});
self.wasmergeLastRun = () => merges.lastRun;  // for scripts/bench_browser.js

// ---- evaluating: the picked folders and the merge, on the user's text ----
// One engine job at a time: while an evaluation reads the picks (and the merge in OPFS),
// nothing may replace them.
const evals = createEvalPanel({
  el: {
    root: $('eval-card'), text: $('eval-text'), textFile: $('eval-text-file'), textSize: $('eval-text-size'),
    models: $('eval-models'), context: $('eval-context'), run: $('eval-run'), cancel: $('eval-cancel'),
    progress: $('eval-progress'), status: $('eval-status'), results: $('eval-results-box'), table: $('eval-results'),
    chart: $('eval-chart'), compare: $('compare-inputs'),
  },
  missing,
  table: () => table,
  settings: engineSettings,
  busy(value) {
    for (const id of ['merge', 'files', 'folders', 'clear-files']) $(id).disabled = value;
    form.setDisabled(value);
  },
});
self.wasmergeLastEval = () => evals.lastRun;  // for scripts/bench_browser.js

// document.body.dataset.mergeState: loading | idle | checking | running | done | failed |
// cancelled, a stable hook for the page's automated tests.
const setState = (state) => { document.body.dataset.mergeState = state; };

// ---- wiring ----
$('threads').value = String(features.cores);
$('merge').addEventListener('click', () => {
  if (['checking', 'running'].includes(document.body.dataset.mergeState)) return;
  setState('checking');
  merges.run().then(setState, (e) => {
    console.error(e);  // the stack, for whoever debugs it
    setState('failed');
    say(`Unexpected problem: ${e.message}`, 'error');
  });
});
$('cancel').addEventListener('click', () => {
  if (merges.cancel()) say('Cancelling…');
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
// The layer-space lab (web/lab/): slice merges and upcycling of its own demo model.
if (missing.length) $('layer-lab').textContent = `The layer-space lab runs the merge engine, which needs ${missing.join(', ')}.`;
else mountLab($('layer-lab')).catch((e) => console.warn('the layer lab stopped', e));

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
