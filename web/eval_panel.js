// The evaluation panel (index.html's #eval-card): a text (typed, pasted or a picked .txt
// file), the models to score (picked folders and the merge just made, eval_models.js), the
// run in a worker of its own (merge_client.js with an eval job, which writes nothing), its
// progress per model and layer, cancel, and the outcome: the table and chart, or one line
// saying what is wrong. Nothing of a run that failed or was cancelled is shown.
//
// document.body.dataset.evalState: idle | checking | running | done | failed | cancelled,
// a stable hook for the page's tests.
import * as P from './shared/protocol.js';
import { formatBytes, formatDuration } from './shared/format.js';
import { startMerge } from './merge_client.js';
import { evalCandidates, evalFiles, mergeAndInputs } from './eval_models.js';
import { evalJobText } from './eval_job.js';
import { createEvalProgress } from './eval_progress.js';
import { renderEvalResults } from './eval_results.js';

const setState = (state) => { document.body.dataset.evalState = state; };
// What a textarea's value makes of a text's line ends.
const asTextareaValue = (text) => text.replace(/\r\n?/g, '\n');

// el: {root, text, textFile, textSize, models, context, run, cancel, progress, status, results,
// table, chart, compare}; missing: what this browser lacks to run the engine, in words;
// table(): the picked files (file_table.js); settings() -> {memoryMb, threads}, or throws an
// Error saying what is wrong; busy(bool): an evaluation is running.
function createEvalPanel({ el, missing, table, settings, busy }) {
  const progress = createEvalProgress(el.progress);
  let merge = null;        // the result view's {output, entries, config}, or null
  let candidates = [];
  const ticked = new Map(); // candidate id -> bool; a new candidate starts ticked
  let running = null;
  let lastRun = null;
  // The picked file's exact text: a textarea turns \r\n into \n, the CLI reads the bytes.
  let fileText = null;

  function say(text, kind = 'info') {
    el.status.textContent = text;
    el.status.className = `status ${kind}`;
  }

  function currentText() {
    const typed = el.text.value;
    return fileText !== null && typed === asTextareaValue(fileText) ? fileText : typed;
  }

  function showTextSize() {
    const bytes = new TextEncoder().encode(currentText()).length;
    el.textSize.textContent = bytes ? `${formatBytes(bytes)} of UTF-8` : '';
  }

  function renderModels() {
    candidates = evalCandidates(table(), merge);
    el.models.replaceChildren(...candidates.map((c) => {
      const li = document.createElement('li');
      const box = Object.assign(document.createElement('input'), { type: 'checkbox', checked: ticked.get(c.id) !== false,
        disabled: Boolean(running) });
      box.dataset.model = c.name;
      box.addEventListener('change', () => ticked.set(c.id, box.checked));
      const label = document.createElement('label');
      label.append(box, ` ${c.name}`);
      if (c.isMerge) label.append(Object.assign(document.createElement('span'), { className: 'muted', textContent: ' (the merge just made, in this browser’s storage)' }));
      li.append(label);
      return li;
    }));
    if (!candidates.length) {
      el.models.append(Object.assign(document.createElement('li'), { className: 'muted',
        textContent: 'Pick model folders (config.json, tokenizer.json and the weights) above, or merge some: they are listed here.' }));
    }
    el.compare.hidden = !candidates.some((c) => c.isMerge);
  }

  function clearOutcome() {
    progress.clear();
    el.results.hidden = true;
    say('');
  }

  function fail(message) {
    progress.clear();
    el.results.hidden = true;
    say(message, 'error');
    return 'failed';
  }

  function setControlsDisabled(value) {
    for (const c of [el.run, el.text, el.textFile, el.context, el.compare, ...el.models.querySelectorAll('input')]) c.disabled = value;
  }

  // -> 'done' | 'failed' | 'cancelled'
  async function evaluate() {
    clearOutcome();
    const chosen = candidates.filter((c) => ticked.get(c.id) !== false);
    const text = currentText();
    if (missing.length) return fail(`Evaluating needs ${missing.join(', ')}, which this browser lacks here.`);
    // Busy from here: while the tokenizers read the picks and the merge, nothing may replace them.
    const settle = () => {
      busy(false);
      setControlsDisabled(false);
      el.cancel.disabled = true;
    };
    busy(true);
    setControlsDisabled(true);
    let job, files, memoryMb, threads;
    try {
      ({ memoryMb, threads } = settings());
      files = await evalFiles(table(), merge, chosen);
      job = await evalJobText({ candidates: chosen, files, text, contextText: el.context.value, threads, memoryMb });
    } catch (e) {
      settle();
      return fail(e.message);
    }

    el.cancel.disabled = false;
    setState('running');
    say('Starting the engine…');
    progress.start(chosen.map((c) => c.name));
    const began = performance.now();
    const startedAt = [];
    const rows = [];
    running = startMerge({ files, job, memoryMb, threads, output: null }, {
      started: () => say(`Evaluating ${chosen.length} model${chosen.length === 1 ? '' : 's'}…`),
      progress() {},
      forward() {},
      warning: (message) => console.warn(message),
      eval(e) {
        if (e.event === 'eval_start') {
          startedAt[e.model] = e.at;
          progress.started(e.model, e);
        } else if (e.event === 'eval_layer') progress.layer(e.model, e);
        else if (e.event === 'eval_result' && chosen[e.model]) {
          const seconds = (e.at - startedAt[e.model]) / 1000;
          rows[e.model] = { ...e, name: chosen[e.model].name, isMerge: chosen[e.model].isMerge, seconds };
          progress.done(e.model, seconds);
        }
      },
    });
    let r;
    try {
      r = await running.promise;
    } finally {
      running = null;
      settle();
    }
    const seconds = (performance.now() - began) / 1000;
    if (r.failed) return fail(`The evaluation could not run: ${r.failed}`);
    if (r.status === P.STATUS.CANCELLED) {
      clearOutcome();
      say('Cancelled.', 'info');
      return 'cancelled';
    }
    if (r.status !== P.STATUS.DONE) return fail(`Could not evaluate: ${r.outcome ? r.outcome.message : `the engine stopped (exit ${r.status})`}`);
    if (chosen.some((c, i) => !rows[i])) return fail('Could not evaluate: the engine finished without a result for every model.');
    lastRun = { rows, seconds };
    renderEvalResults({ table: el.table, chart: el.chart }, rows);
    el.results.hidden = false;
    say(`Evaluated ${rows.length} model${rows.length === 1 ? '' : 's'} on ${formatBytes(new TextEncoder().encode(text).length)} ` +
      `of text in ${formatDuration(seconds)}, the engine's start included.`, 'ok');
    return 'done';
  }

  async function run() {
    if (running || ['checking', 'running'].includes(document.body.dataset.evalState)) return;
    setState('checking');
    let state;
    try {
      state = await evaluate();
    } catch (e) {
      console.error(e);
      state = fail(`Unexpected problem: ${e.message}`);
    }
    setState(state);
  }

  el.run.addEventListener('click', () => run());
  el.cancel.addEventListener('click', () => {
    if (!running) return;
    running.cancel();
    say('Cancelling…');
  });
  el.compare.addEventListener('click', () => {
    if (running || !merge) return;
    const chosen = new Set(mergeAndInputs(table(), candidates, merge.config).map((c) => c.id));
    for (const c of candidates) ticked.set(c.id, chosen.has(c.id));
    renderModels();
    el.root.scrollIntoView({ block: 'start' });
    run();
  });
  el.text.addEventListener('input', showTextSize);
  el.textFile.addEventListener('change', async () => {
    const file = el.textFile.files[0];
    el.textFile.value = '';
    if (!file) return;
    try {
      fileText = await file.text();
    } catch (e) {
      say(`Could not read ${file.name}: ${e.message}`, 'error');
      return;
    }
    el.text.value = fileText;
    showTextSize();
  });
  el.cancel.disabled = true;
  setState('idle');
  renderModels();

  return {
    // The picks changed: the models listed follow.
    filesChanged: renderModels,
    // The merge the result view shows ({output, entries, config}), or null once it is gone.
    setMerge(result) {
      merge = result;
      renderModels();
    },
    // A merge is running: nothing to start here meanwhile.
    setDisabled(value) {
      if (!running) setControlsDisabled(value);
    },
    get running() { return Boolean(running); },
    // The last evaluation's rows and wall time (scripts/bench_browser.js reads it).
    get lastRun() { return lastRun; },
  };
}

export { createEvalPanel };
