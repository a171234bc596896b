// "What TIES and DARE will do to your models": the engine's per-tensor report of the
// user's own models (the 'analyze' job: one streaming pass, nothing written), grouped by
// layer and drawn as charts: how large the task vectors' entries are, how often the
// models pull a parameter in opposite directions, and how much their top-k sets overlap.
import * as charts from './line_chart.js';

const COLORS = ['#2f5bd3', '#e07b39', '#1b7f4b', '#9c3fb8', '#b3261e', '#00838f', '#6d6d00', '#555'];
const pct = (x) => `${(100 * x).toFixed(1)}%`;
const SUPERSCRIPT = { '-': '⁻', 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹' };
const powerOfTwo = (e) => `2${[...String(e)].map((ch) => SUPERSCRIPT[ch]).join('')}`;

// "model.layers.12.mlp.up_proj.weight" -> 12; other tensors -> null
function layerOf(name) {
  const m = /(?:^|\.)(?:layers|h|blocks)\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : null;
}

// reports: tensor_report events -> [{label, elements, conflict, overlap, hist: [model][bin]}]
// by layer, then one group for every tensor outside the layers.
function groupByLayer(reports) {
  const groups = new Map();
  for (const r of reports) {
    const layer = layerOf(r.tensor);
    const key = layer === null ? 'rest' : layer;
    if (!groups.has(key)) groups.set(key, { label: layer === null ? 'rest' : String(layer), elements: 0, conflicts: 0, overlapSum: 0, overlapWeight: 0,
      hist: r.abs_delta_hist.map((h) => h.map(() => 0)), zero: r.zero.map(() => 0) });
    const g = groups.get(key);
    g.elements += r.elements;
    g.conflicts += r.sign_conflict * r.elements;
    r.abs_delta_hist.forEach((h, k) => h.forEach((count, b) => { g.hist[k][b] += count; }));
    r.zero.forEach((z, k) => { g.zero[k] += z; });
    const K = r.models;
    for (let a = 0; a < K; a++) for (let b = a + 1; b < K; b++) {
      g.overlapSum += r.topk_overlap[a][b] * r.elements;
      g.overlapWeight += r.elements;
    }
  }
  const keys = [...groups.keys()].sort((a, b) => (a === 'rest') - (b === 'rest') || a - b);
  return keys.map((k) => {
    const g = groups.get(k);
    return { label: g.label, elements: g.elements, conflict: g.conflicts / g.elements,
      overlap: g.overlapWeight ? g.overlapSum / g.overlapWeight : null, hist: g.hist, zero: g.zero };
  });
}

// The |δ| binade below which a fraction `density` of the non-zero entries lies above:
// roughly where a TIES trim at that density cuts.
function cutBinade(hist, density, minLog2) {
  const total = hist.reduce((a, b) => a + b, 0);
  let above = 0;
  for (let b = hist.length - 1; b >= 0; b--) {
    above += hist[b];
    if (above >= density * total) return minLog2 + b;
  }
  return minLog2;
}

function chartBox(title, about) {
  const box = document.createElement('div');
  box.className = 'chart-box';
  const h = document.createElement('h4');
  h.textContent = title;
  const p = document.createElement('p');
  p.className = 'hint';
  p.textContent = about;
  const area = document.createElement('div');
  box.append(h, area, p);
  return { box, area };
}

// container: where the report goes; reports: the tensor_report events; models: the
// models' names in config order.
function renderReport(container, { reports, models }) {
  if (!reports.length) {
    container.textContent = 'The engine found no tensor to merge in these models.';
    return;
  }
  const K = reports[0].models;
  const minLog2 = reports[0].hist_min_log2;
  const bins = reports[0].hist_bins;
  const density = reports[0].topk_density;
  const groups = groupByLayer(reports);
  const elements = reports.reduce((a, r) => a + r.elements, 0);
  const conflict = reports.reduce((a, r) => a + r.sign_conflict * r.elements, 0) / elements;
  const overlapGroups = groups.filter((g) => g.overlap !== null);
  const overlap = overlapGroups.length
    ? overlapGroups.reduce((a, g) => a + g.overlap * g.elements, 0) / overlapGroups.reduce((a, g) => a + g.elements, 0) : null;
  const totalHist = Array.from({ length: K }, (_, k) => Array.from({ length: bins }, (_, b) => groups.reduce((a, g) => a + g.hist[k][b], 0)));
  const cuts = totalHist.map((h) => cutBinade(h, density, minLog2));

  const summary = document.createElement('p');
  summary.className = 'report-summary';
  summary.textContent = `${reports.length} tensors, ${elements.toLocaleString('en-US')} parameters, ${K} model${K === 1 ? '' : 's'} against the base. ` +
    `TIES at density ${density} keeps, in each tensor, the entries of largest |δ| — about those above ${powerOfTwo(cuts[0])} here. ` +
    (K > 1 ? `At ${pct(conflict)} of the parameters the models pull in opposite directions: TIES keeps only the side the ` +
      'weighted majority elects there, where task arithmetic would let them cancel. ' +
      (overlap !== null ? `The models' top-${Math.round(density * 100)}% sets share ${pct(overlap)} of their entries ` +
        `(${pct(density)} if they were independent): ${overlap > density + 0.1 * (1 - density)
          ? 'their largest changes tend to fall on the same parameters, where the sign election decides'
          : 'their largest changes are about as spread out as chance would make them'}. ` : '')
      : '') +
    `DARE instead keeps a random ${pct(density)} of each task vector and scales it up by 1/${density} (or to the same L1 norm).`;

  const histBox = chartBox('Distribution of |δ|', 'Fraction of each model’s changed parameters by binade of |δ| (entries equal to the base are left out).');
  const binLabels = Array.from({ length: bins }, (_, b) => ((minLog2 + b) % 4 === 0 ? powerOfTwo(minLog2 + b) : ''));
  const first = Math.max(0, Math.min(...totalHist.map((h) => h.findIndex((c) => c > 0))) - 1);
  const last = Math.min(bins - 1, Math.max(...totalHist.map((h) => bins - 1 - [...h].reverse().findIndex((c) => c > 0))) + 1);
  const shown = (xs) => xs.slice(first, last + 1);
  const fractions = totalHist.map((h) => {
    const total = h.reduce((a, b) => a + b, 0) || 1;
    return h.map((c) => c / total);
  });
  const yMax = Math.max(0.05, ...fractions.flat());
  charts.renderLineChart(histBox.area, {
    title: 'Distribution of |δ|', xLabels: shown(binLabels), xTitle: '|δ| (binade)', yTitle: 'fraction',
    yMin: 0, yMax: Math.ceil(yMax * 10) / 10, yTicks: [0, Math.ceil(yMax * 10) / 20, Math.ceil(yMax * 10) / 10],
    yFormat: (v) => `${Math.round(v * 100)}%`,
    series: fractions.map((f, k) => ({ label: models[k] || `model ${k + 1}`, color: COLORS[k % COLORS.length], values: shown(f) })),
  });

  const layerLabels = groups.map((g, i) => (groups.length <= 16 || i % Math.ceil(groups.length / 12) === 0 || g.label === 'rest' ? g.label : ''));
  const conflictBox = chartBox('Sign conflicts and top-k overlap by layer',
    `Sign conflict: the share of a layer's parameters where two models' δ have opposite signs. Overlap: the share of the top-${Math.round(density * 100)}% |δ| entries two models have in common (mean over pairs). “rest” is every tensor outside the numbered layers.`);
  const series = [{ label: 'sign conflicts', color: '#b3261e', values: groups.map((g) => g.conflict) }];
  if (overlap !== null) series.push({ label: `top-${Math.round(density * 100)}% overlap`, color: '#2f5bd3', values: groups.map((g) => g.overlap) });
  charts.renderLineChart(conflictBox.area, {
    title: 'Sign conflicts and overlap by layer', xLabels: layerLabels, xTitle: 'layer', yTitle: 'share of parameters',
    yMin: 0, yMax: 1, yTicks: [0, 0.25, 0.5, 0.75, 1], yFormat: (v) => `${Math.round(v * 100)}%`, series,
    references: [{ label: `independent top-k: ${pct(density)}`, value: density, color: '#999' }],
  });

  const grid = document.createElement('div');
  grid.className = 'chart-grid';
  grid.append(histBox.box, conflictBox.box);
  container.replaceChildren(summary, grid);
  container.dataset.tensors = String(reports.length);
  container.dataset.signConflict = String(conflict);
}

export { renderReport };
