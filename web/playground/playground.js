// The merging playground: builds its views (markup.js), loads the demo models into the
// playground's worker, and re-merges on every control change: the engine merges, the
// worker evaluates, this file draws. The charts' merges run in the gaps.
//   mount(element, {methods, selection})  methods() -> a promise of the
//   engine's method catalogue (app.js asks it once); selection() -> {files: [[path, File]],
//   config} of the models picked for merging (app.js), for the per-layer report.
// Hooks for tests: element.dataset.state (loading | ready | error), .dataset.updates (how
// many merges have been shown), .dataset.charts (running | done; unset until the charts
// have been scrolled into view).
import * as Markup from './markup.js';
import * as Client from './playground_client.js';
import * as MC from './merge_config.js';
import * as ConfigYaml from '../config_yaml.js';
import * as Methods from '../methods.js';
import * as mlp from './mlp.js';
import * as Evaluate from './evaluate.js';
import * as ResultsTable from './results_table.js';
import * as BoundaryView from './boundary_view.js';
import * as TiesSteps from './ties_steps.js';
import * as Sweeps from './sweeps.js';
import * as Charts from './line_chart.js';
import * as LayerReport from './layer_report.js';
import { createParamControls } from './param_controls.js';
import { fitTasks } from './task_pick.js';

const DEMO = 'demo/playground/';
const CROP = 16;                // the step-by-step view shows 16 x 16 elements of a tensor
const CHART_DELAY_MS = 400;     // the charts restart once a slider rests this long
// Series colours, by a method's (or a drop variant's) place in its chart.
const PALETTE = ['#7a8799', '#e07b39', '#2f5bd3', '#1b7f4b', '#9c3fb8', '#b3261e', '#00838f', '#6d6d00'];
const RESCALE_WORDS = { l1: 'to the same L1 norm (mergekit)', inverse_density: 'by 1/density (DARE paper)' };
const pct = (x) => `${(100 * x).toFixed(1)}%`;
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function fetchDemo() {
  const manifest = await (await fetch(`${DEMO}playground.json`)).json();
  const names = [manifest.base, ...manifest.tasks.map((t) => t.file)];
  const buffers = await Promise.all(names.map(async (f) => (await fetch(DEMO + f)).arrayBuffer()));
  return { manifest, files: Object.fromEntries(names.map((f, i) => [f, buffers[i]])), buffers };
}

// The crops of each tensor the step-by-step view can show: 16 x 16 blocks of a matrix,
// or 256-element stretches of a smaller or thinner tensor (shown 16 to a row). The
// engine explains whole rows [offset, offset + count); `pick` selects the crop's
// elements from them. -> [{tensor, offset, count, pick, label}]
function explainWindows(network) {
  const out = [];
  for (const { name, shape } of mlp.layout(network)) {
    const [rows, columns] = shape.length === 2 ? shape : [1, shape[0]];
    if (rows >= CROP && columns >= CROP) {
      for (let r = 0; r < rows; r += CROP) {
        for (let c = 0; c < columns; c += CROP) {
          const pick = [];
          for (let i = 0; i < CROP; i++) for (let j = 0; j < CROP; j++) pick.push(i * columns + c + j);
          out.push({ tensor: name, offset: r * columns, count: CROP * columns, pick,
            label: `rows ${r}–${r + CROP - 1}, columns ${c}–${c + CROP - 1}` });
        }
      }
    } else {
      const n = rows * columns;
      for (let offset = 0; offset < n; offset += CROP * CROP) {
        const count = Math.min(CROP * CROP, n - offset);
        out.push({ tensor: name, offset, count, pick: Array.from({ length: count }, (_, i) => i),
          label: `elements ${offset}–${offset + count - 1} of ${n}, 16 to a row` });
      }
    }
  }
  return out;
}

// The method the playground opens on: the one whose steps show the most (the most
// stages in its explain event), first in the catalogue's order among equals.
const richest = (methods) => methods.reduce((a, m) => (m.stages.length > a.stages.length ? m : a));

async function mount(root, { methods: askMethods, selection = () => null } = {}) {
  root.innerHTML = Markup.HTML;
  root.dataset.state = 'loading';
  root.dataset.updates = '0';
  const $ = (id) => root.querySelector(`#${id}`);
  const latencyLine = $('pg-latency');
  latencyLine.textContent = 'Loading the demo models and the engine…';

  let demo, client, scheduler, loaded, catalogue;
  try {
    [demo, catalogue] = await Promise.all([fetchDemo(), askMethods()]);
    client = Client.createClient();
    scheduler = Client.createScheduler(client);
    loaded = await scheduler.now('load', { files: demo.files, network: demo.manifest.network }, { transfer: demo.buffers });
  } catch (e) {
    root.dataset.state = 'error';
    latencyLine.textContent = `The playground could not start: ${e.message}`;
    latencyLine.classList.add('error');
    return null;
  }
  const { manifest } = demo;
  const tasks = manifest.tasks;
  const names = tasks.map((t) => t.name);
  const own = Object.fromEntries(names.map((t) => [t, loaded.accuracy[t][t]]));
  const baseNorm = mean(names.map((n) => loaded.accuracy.base[n] / own[n]));  // the base's normalized accuracy
  const trunkParameters = mlp.layout(manifest.network).filter((t) => t.name.startsWith('trunk.'))
    .reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);

  // ---- controls ----
  // Methods that combine models (several, or the base and one): a method taking one model
  // and no base (passthrough) would only show that fine-tune again.
  const offered = catalogue.filter(Methods.combines);
  const methodOf = (name) => Methods.find(offered, name);
  const method = $('pg-method');
  const opening = richest(offered);
  for (const m of offered) {
    const option = new Option(m.title, m.name, m === opening, m === opening);
    option.title = m.summary;
    method.append(option);
  }
  const sliders = ['pg-density', 'pg-lambda'].map((id) => [$(id), $(`${id}-value`)]);
  const showSliderValues = () => { for (const [input, out] of sliders) out.textContent = Number(input.value).toFixed(2); };
  const taskRows = tasks.map((t) => {
    const row = document.createElement('div');
    row.className = 'pg-task';
    row.innerHTML = `<label class="pg-task-name"><input type="checkbox" checked> <span></span></label>
      <input type="range" min="0" max="2" step="0.05" value="1" aria-label="weight"><output></output>`;
    const [check, weight] = row.querySelectorAll('input');
    check.dataset.testid = `pg-task-${t.name}`;
    weight.dataset.testid = `pg-weight-${t.name}`;
    weight.setAttribute('aria-label', `${t.title} weight`);
    row.querySelector('span').textContent = t.title;
    row.title = t.about;
    $('pg-task-list').append(row);
    return { name: t.name, check, weight, out: row.querySelector('output') };
  });

  const paramControls = createParamControls($('pg-params'));
  // The tasks the user chose (a method taking fewer gets the first of them: task_pick.js).
  let preferred = taskRows.map((r) => r.name);
  function fitTasksTo(m) {
    const picked = fitTasks(m, preferred, taskRows.map((r) => r.name));
    for (const r of taskRows) r.check.checked = picked.includes(r.name);
  }

  function state() {
    const weighted = Methods.has(methodOf(method.value), 'weight');  // SLERP, Model Stock: no weights
    for (const r of taskRows) {
      r.out.textContent = Number(r.weight.value).toFixed(2);
      r.weight.disabled = !r.check.checked || !weighted;
    }
    showSliderValues();
    return {
      method: method.value,
      density: Number($('pg-density').value),
      lambda: Number($('pg-lambda').value),
      seed: Math.max(0, Math.floor(Number($('pg-seed').value) || 0)),
      rescale: $('pg-rescale').value,
      models: taskRows.filter((r) => r.check.checked).map((r) => ({ name: r.name, weight: Number(r.weight.value) })),
      values: paramControls.values(),
    };
  }

  // The controls the method reads (the catalogue's parameters); the rescale choices are its own.
  function showFieldsFor(m) {
    $('pg-density-field').hidden = !Methods.has(m, 'density');
    $('pg-lambda-field').hidden = !Methods.has(m, 'lambda');
    const rescale = $('pg-rescale');
    const choices = MC.rescaleChoices(m);
    $('pg-rescale-field').hidden = !choices.length;
    if (choices.join() !== [...rescale.options].map((o) => o.value).join()) {
      const was = rescale.value;
      rescale.replaceChildren(...choices.map((c) => new Option(c === MC.DEFAULT ? 'the method’s default' : c === MC.OFF ? 'no'
        : RESCALE_WORDS[c] || c, c)));
      rescale.value = choices.includes(was) ? was : MC.DEFAULT;
    }
  }

  // ---- views ----
  const table = ResultsTable.createResultsTable($('pg-table'), $('pg-normalized'), tasks);
  const boundaries = BoundaryView.createBoundaryView($('pg-boundaries'), {
    tasks, own: loaded.boundaries, grid: Evaluate.GRID, extent: Evaluate.EXTENT });
  const windows = explainWindows(manifest.network);
  const tensorSelect = $('pg-explain-tensor');
  const windowSelect = $('pg-explain-window');
  for (const tensor of [...new Set(windows.map((w) => w.tensor))]) tensorSelect.append(new Option(tensor, tensor));
  tensorSelect.value = 'trunk.layers.1.weight';
  const fillWindows = () => {
    windowSelect.replaceChildren(...windows.map((w, i) => [w, i]).filter(([w]) => w.tensor === tensorSelect.value)
      .map(([w, i]) => new Option(w.label, String(i))));
  };
  fillWindows();
  const explainWindow = () => windows[Number(windowSelect.value)];

  let downloadUrl = null;
  function showMerge(answer, current, started, first) {
    const drawStart = performance.now();
    const mergedTasks = current.models.map((m) => m.name);
    const m = methodOf(current.method);
    const title = `Merge (${m.title})`;
    table.show({ accuracy: loaded.accuracy, merged: answer.accuracy, mergedTasks, title });
    boundaries.show(answer.boundaries, answer.accuracy, own);
    const w = explainWindow();
    if (answer.explain) {
      TiesSteps.renderSteps($('pg-steps'), { event: answer.explain, pick: w.pick, columns: CROP,
        models: mergedTasks.map((t) => tasks.find((x) => x.name === t).title),
        what: `${w.tensor}, ${w.label}`, method: m, methods: offered });
    }
    if (downloadUrl) URL.revokeObjectURL(downloadUrl);
    downloadUrl = URL.createObjectURL(new Blob([answer.model], { type: 'application/octet-stream' }));
    $('pg-download').href = downloadUrl;
    const done = performance.now();
    const total = done - started;
    const waited = total - answer.ms.engine - answer.ms.evaluate - (done - drawStart);
    latencyLine.textContent = `${first ? 'First merge (the engine warming up)' : 'Updated'} in ${Math.round(total)} ms` +
      `${first ? '' : ' after the change'}: engine ${Math.round(answer.ms.engine)} ms, ` +
      `evaluation ${Math.round(answer.ms.evaluate)} ms, drawing ${Math.round(done - drawStart)} ms, ` +
      `waiting and messages ${Math.round(waited)} ms.` +
      (answer.warnings.length ? ` The engine warned: ${answer.warnings.join(' ')}` : '');
    latencyLine.classList.remove('error');
    latencyLine.dataset.ms = String(total);
    root.dataset.updates = String(Number(root.dataset.updates) + 1);
  }

  async function update(started = performance.now(), first = false) {
    const m = methodOf(method.value);
    showFieldsFor(m);  // first: the rescale choices and the other controls are the method's
    paramControls.show(m);
    const current = state();
    if (!current.models.length) {
      latencyLine.textContent = 'Pick at least one task to merge.';
      return;
    }
    if (!Methods.takes(m, current.models.length)) {
      latencyLine.textContent = `${m.title} merges ${Methods.countText(m)}: pick the tasks to match.`;
      return;
    }
    const config = MC.buildConfig(current, m);
    const text = ConfigYaml.dumpConfig(config);
    const w = explainWindow();
    let answer;
    try {
      answer = await scheduler.latest({ config, configText: text, tasks: current.models.map((m) => m.name), boundaries: true,
        explain: { tensor: w.tensor, offset: w.offset, count: w.count } });
    } catch (e) {
      latencyLine.textContent = `The engine refused this merge: ${e.message}`;
      latencyLine.classList.add('error');
      return;
    }
    if (!answer) return;  // a newer change is on its way
    $('pg-config').textContent = text;
    showMerge(answer, current, started, first);
  }

  // ---- charts ----
  const chartProgress = $('pg-charts-progress');
  const progress = { growth: 0, drops: 0 };
  const totals = { growth: 0, drops: 0 };
  function showChartProgress() {
    const done = progress.growth + progress.drops;
    const total = totals.growth + totals.drops;
    root.dataset.charts = done >= total ? 'done' : 'running';
    chartProgress.textContent = done >= total ? `Charts: ${total} merges by the engine.` : `Charts: ${done} of ${total} merges…`;
  }

  // failures: {method: {count, message}} of the merges the engine refused (sweeps.js)
  function drawGrowth(t, finished, failures) {
    const values = Object.values(t).flat().filter((v) => v !== null);
    const yMin = Math.max(0, Math.floor(Math.min(baseNorm, ...values) * 10) / 10);
    Charts.renderLineChart($('pg-chart-growth'), {
      title: 'Normalized accuracy by number of merged tasks', xLabels: names.map((_, i) => String(i + 1)),
      xTitle: 'tasks merged', yTitle: 'normalized accuracy', yMin, yMax: 1,
      yTicks: [yMin, (yMin + 1) / 2, 1].map((v) => Math.round(v * 100) / 100), yFormat: (v) => `${Math.round(v * 100)}%`,
      // Past the palette's colours, the series repeat them dashed, then dotted.
      series: Sweeps.growthMethods(offered).map((m, i) => ({ label: m.title, color: PALETTE[i % PALETTE.length],
        dash: ['none', '6 4', '2 3'][Math.floor(i / PALETTE.length) % 3], values: t[m.name] })),
      references: [{ label: 'base', value: baseNorm, color: '#999' }],
    });
    $('pg-chart-growth').dataset.table = JSON.stringify(t);  // for the tests
    $('pg-chart-growth').dataset.failures = JSON.stringify(failures);
    if (finished) $('pg-growth-note').textContent = [growthNote(t), failureNote(failures, (name) => methodOf(name).title)].filter(Boolean).join('\n');
  }

  // What the engine refused to merge for a chart, so a missing point is explained.
  function failureNote(failures, label) {
    return Object.entries(failures).map(([row, f]) => `${label(row)}: the engine refused ${f.count} of these merges ` +
      `(“${f.message}”), so the points where that happened are left out.`).join(' ');
  }

  // The papers' claims against the chart, in the catalogue's terms. TIES: methods that
  // elect a sign (the 'sign' stage) beat those that only add or average the task vectors
  // (a normalize switch, no density, no election). The later papers each report their
  // method ahead of TIES; the chart says where that shows at this scale.
  function growthNote(t) {
    const last = names.length - 1;
    const growth = Sweeps.growthMethods(offered);
    const shown = growth.filter((m) => t[m.name][last] !== null);
    const at = Object.fromEntries(shown.map((m) => [m.name, t[m.name][last]]));
    const titles = (ms) => ms.map((m) => m.title).join(', ');
    const list = shown.map((m) => `${m.title} ${pct(at[m.name])}`).join(', ');
    const electing = shown.filter((m) => m.stages.includes('sign'));
    const summing = shown.filter((m) => !m.stages.includes('sign') && !Methods.has(m, 'density') && Methods.has(m, 'normalize'));
    const parts = [`With all ${names.length} tasks merged: ${list}.`];
    if (electing.length && summing.length) {
      const best = shown.reduce((a, m) => (at[m.name] > at[a.name] ? m : a));
      const bestOf = (ms) => Math.max(...ms.map((m) => at[m.name]));
      const tiesAhead = bestOf(electing) >= bestOf(summing);
      parts.push('The TIES paper finds TIES ahead of task arithmetic and of averaging, more so as tasks are added. ' +
        (tiesAhead ? 'Here it is too, with these settings.'
          : `Here it is not: ${best.title} does best with these settings. With ${trunkParameters.toLocaleString('en-US')} ` +
            'parameters in the trunk, a task vector has little redundancy, so trimming it to the density removes part of ' +
            'the task itself; the papers merge models of 10⁸ to 10¹⁰ parameters. Set the density to 1 to see the sign ' +
            'election alone.'));
      const ties = electing[0];
      const later = shown.filter((m) => m !== ties && !summing.includes(m));
      const ahead = later.filter((m) => at[m.name] >= at[ties.name]);
      const behind = later.filter((m) => at[m.name] < at[ties.name]);
      if (later.length)
        parts.push(`Against ${ties.title} here, with these settings: ${ahead.length ? titles(ahead) : 'none'} level or ahead; ` +
          `${behind.length ? titles(behind) : 'none'} behind. Their papers measure on models of 10⁸ parameters and more.`);
    }
    // Methods that blend the base with one fine-tune: the base here knows none of the tasks.
    const single = growth.filter((m) => m.needs_base && m.models.max === 1 && t[m.name][0] !== null);
    if (single.length)
      parts.push(`${titles(single)} blend the base with one fine-tune, so ${single.length === 1 ? 'it has' : 'they have'} ` +
        `a point at one task only (${single.map((m) => `${m.title} ${pct(t[m.name][0])}`).join(', ')}). The base here has ` +
        'never seen the tasks, so such a blend can at best match the fine-tune; these methods are meant for two models ' +
        'that are both good at something, which this demo does not have.');
    const nearBase = shown.filter((m) => at[m.name] < baseNorm + 0.05);
    if (nearBase.length)
      parts.push(`${titles(nearBase)} end${nearBase.length === 1 ? 's' : ''} near the base's ${pct(baseNorm)}: at this ` +
        `scale, with five unrelated tasks, ${nearBase.length === 1 ? 'it does not show the gains its paper reports'
          : 'they do not show the gains their papers report'} for fine-tunes of one task or of related ones.`);
    return parts.join('\n');  // one paragraph per claim (.pg-honest keeps the line breaks)
  }

  function drawDrops(t, finished, failures) {
    const ftMean = mean(names.map((n) => own[n]));
    const baseMean = mean(names.map((n) => loaded.accuracy.base[n]));
    Charts.renderLineChart($('pg-chart-drops'), {
      title: 'Accuracy by drop rate', xLabels: Sweeps.DROP_RATES.map(String), xTitle: 'drop rate p (density 1 − p)',
      yTitle: 'mean accuracy', yMin: 0.4, yMax: 1, yTicks: [0.4, 0.6, 0.8, 1], yFormat: (v) => `${Math.round(v * 100)}%`,
      // Dashed every other: rescaled series can run on top of each other.
      series: dropVariants.map((v, i) => ({ label: v.label, color: PALETTE[(i + 3) % PALETTE.length], dash: i % 2 ? '6 4' : undefined,
        values: t[v.id] })),
      references: [{ label: 'fine-tunes', value: ftMean, color: '#1b7f4b' }, { label: 'base', value: baseMean, color: '#999' }],
    });
    $('pg-chart-drops').dataset.table = JSON.stringify(t);
    $('pg-chart-drops').dataset.failures = JSON.stringify(failures);
    if (finished) $('pg-drops-note').textContent = [dropsNote(t, ftMean),
      failureNote(failures, (id) => dropVariants.find((v) => v.id === id).label)].filter(Boolean).join('\n');
  }

  // The DARE paper's claims, against the series for random drops rescaled by 1/density,
  // not rescaled, and magnitude pruning (sweeps.js names them by the rescale_mode).
  function dropsNote(t, ftMean) {
    const [inverse, off, magnitude] = ['random-inverse_density', `random-${MC.OFF}`, 'magnitude'].map((id) => t[id]);
    if (!inverse || !off || !magnitude) return '';
    const i = Sweeps.DROP_RATES.indexOf(0.9);
    const keep = (series) => series[i] / ftMean;
    const holds = keep(inverse) >= 0.95;
    const magnitudeWorse = magnitude[i] < inverse[i];
    return `The DARE paper finds that language models keep nearly all of their fine-tuned ability with 90% (even 99%) ` +
      'of the task vector dropped at random, if the rest is rescaled; that without rescaling they fail; and that magnitude ' +
      `pruning does worse than random drops. Here, at p = 0.9, DARE rescaled by 1/(1−p) keeps ${pct(keep(inverse))} ` +
      `of the fine-tunes' accuracy, not rescaled ${pct(keep(off))}, magnitude pruning ${pct(keep(magnitude))}. ` +
      (holds ? 'The claim holds at this scale.'
        : 'The claim does not hold at this scale: a network this small has no spare parameters to lose (the paper ties ' +
          'the effect to large models). ') +
      (holds ? '' : magnitudeWorse ? 'That random drops beat magnitude pruning at high p does show here. '
        : 'Magnitude pruning does better than random drops here, unlike in the paper. ') +
      (Math.abs(inverse[i] - off[i]) < 0.03
        ? 'Rescaling makes little difference here, partly because each task head is zero in the base, so scaling a ' +
          'head\'s task vector does not move its decision boundary.'
        : `Rescaling matters here: ${pct(inverse[i])} with, ${pct(off[i])} without.`);
  }

  const dropVariants = Sweeps.dropVariants(offered);
  const sweeps = Sweeps.createSweeps({
    scheduler, names, own, methods: offered,
    onUpdate(kind, t, finished, failures) {
      progress[kind] += Sweeps.BATCH;
      if (finished) progress[kind] = totals[kind];
      showChartProgress();
      if (kind === 'growth') drawGrowth(t, finished, failures);
      else drawDrops(t, finished, failures);
    },
  });
  const chartErrors = (e) => { chartProgress.textContent = `Charts stopped: ${e.message}`; };
  function startGrowth() {
    const s = state();
    totals.growth = Sweeps.growthItems(names, s, offered).length;
    progress.growth = 0;
    $('pg-growth-note').textContent = '';
    showChartProgress();
    sweeps.runGrowth({ density: s.density, lambda: s.lambda, seed: s.seed, values: s.values }).catch(chartErrors);
  }
  function startDrops() {
    totals.drops = Sweeps.dropItems(names, 0, offered).length;
    progress.drops = 0;
    $('pg-drops-note').textContent = '';
    showChartProgress();
    sweeps.runDrops(state().seed).catch(chartErrors);
  }
  // The charts' hundreds of merges start once they are scrolled into view, so a visit
  // to the merge form (or a benchmark there) does not share the CPU with them.
  let chartsStarted = false;
  let chartTimer = null;
  const chartsLater = (fn) => {
    if (!chartsStarted) return;
    clearTimeout(chartTimer);
    chartTimer = setTimeout(fn, CHART_DELAY_MS);
  };
  function startChartsWhenVisible() {
    const start = () => {
      if (chartsStarted) return;
      chartsStarted = true;
      startGrowth();
      startDrops();
    };
    if (!('IntersectionObserver' in self)) return start();
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) {
        observer.disconnect();
        start();
      }
    });
    observer.observe(root.querySelector('.pg-charts'));
  }

  // ---- the per-layer report of the user's models ----
  $('pg-analyze').addEventListener('click', async () => {
    const status = $('pg-analyze-status');
    const picked = selection();
    if (!picked || !picked.files.length || !picked.config) {
      status.textContent = 'Pick models (and write or generate their config) under “Merge your models” first.';
      return;
    }
    $('pg-analyze').disabled = true;
    status.textContent = 'Reading the models…';
    const started = performance.now();
    try {
      const answer = await scheduler.now('analyze', { files: picked.files, config: picked.config }, {
        onProgress: (p) => { status.textContent = `Reading the models… ${Math.round((100 * p.bytes_done) / Math.max(1, p.bytes_total))}%`; },
      });
      const models = (picked.config.models || []).map((m) => String(m.model))
        .filter((m) => m !== String(picked.config.base_model));
      LayerReport.renderReport($('pg-report'), { reports: answer.reports, models });
      status.textContent = `Read in ${((performance.now() - started) / 1000).toFixed(1)} s.`;
    } catch (e) {
      status.textContent = `The engine could not analyze these models: ${e.message}`;
    } finally {
      $('pg-analyze').disabled = false;
    }
  });

  // ---- wiring ----
  const onControl = (e) => {
    const started = performance.now();
    if (e.target === method) fitTasksTo(methodOf(method.value));
    else if (e.target.type === 'checkbox' && e.target.closest('#pg-task-list'))
      preferred = taskRows.filter((r) => r.check.checked).map((r) => r.name);
    update(started);
    if (e.target === $('pg-seed')) { chartsLater(() => { startGrowth(); startDrops(); }); return; }
    if ([$('pg-density'), $('pg-lambda')].includes(e.target) || e.target.closest('#pg-params')) chartsLater(startGrowth);
  };
  root.querySelector('.pg-controls').addEventListener('input', onControl);
  tensorSelect.addEventListener('change', () => { fillWindows(); update(); });
  windowSelect.addEventListener('change', () => update());

  root.dataset.state = 'ready';
  await update(performance.now(), true);
  chartProgress.textContent = 'The charts run their merges when you scroll to them.';
  startChartsWhenVisible();
  return { update };
}

export { mount };
