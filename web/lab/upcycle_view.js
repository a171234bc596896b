// Sparse upcycling: E experts top-k through the engine's mergekit-moe merge (lab_configs.js);
// the page shows that the upcycled model computes what the dense one does (the largest
// logit difference over the test points), how its router shares the points among the
// experts, and, on request, both models trained on for the same steps.
import { upcycleConfig } from './lab_configs.js';
import { buildNet, evaluate } from './lab_net.js';
import { trainingControls, drawCurves } from './lab_training.js';
import { NOTES } from './lab_markup.js';
import { pct, latestWins, showValue } from './lab_format.js';

const MAX_EXPERTS = 8;
const SERIES = [{ key: 'upcycled', label: 'upcycled', color: '#1b7f4b' }, { key: 'dense', label: 'dense', color: '#7a8799', dash: '5 3' }];

// The largest |logit difference| between two evaluations of the same points.
function largestDifference(a, b) {
  let most = 0;
  for (let i = 0; i < a.length; i++) most = Math.max(most, Math.abs(a[i] - b[i]));
  return most;
}

// shares: per layer, each expert's share of the routing slots -> a table of bars.
function drawShares(el, shares) {
  const E = shares[0].length;
  const head = `<tr><th>layer</th>${[...Array(E).keys()].map((e) => `<th>expert ${e}</th>`).join('')}</tr>`;
  const rows = shares.map((row, l) => `<tr><th>${l}</th>${row.map((s) =>
    `<td style="background: linear-gradient(90deg, #1b7f4b40 ${(100 * s).toFixed(1)}%, transparent 0)">${pct(s)}</td>`).join('')}</tr>`).join('');
  el.innerHTML = `<table class="lab-shares">${head}${rows}</table>`;
  el.dataset.shares = JSON.stringify(shares);
}

async function mountUpcycle(root, ctx) {
  const $ = (id) => root.querySelector(`#${id}`);
  const expertsSel = $('lab-up-experts');
  const kSel = $('lab-up-k');
  const gate = $('lab-up-gate');
  expertsSel.innerHTML = [...Array(MAX_EXPERTS - 1).keys()].map((i) => `<option>${i + 2}</option>`).join('');
  expertsSel.value = '4';
  const fillK = () => {
    const E = Number(expertsSel.value);
    const k = Math.min(Number(kSel.value) || 2, E);
    kSel.innerHTML = [...Array(E).keys()].map((i) => `<option>${i + 1}</option>`).join('');
    kSel.value = String(k);
  };
  fillK();
  $('lab-up-note').textContent = NOTES.upcycle;
  const guard = latestWins();
  let upcycled = null;
  const training = trainingControls({ train: $('lab-up-train'), stop: $('lab-up-stop'), progress: $('lab-up-progress'),
    marker: $('lab-upcycle'), set: ctx.set, series: SERIES,
    nets: () => upcycled && { upcycled: ctx.netOf(upcycled), dense: buildNet(ctx.dense.weights) },
    onPoint(step, evals, curves) {
      drawCurves($('lab-up-loss-chart'), curves, SERIES, 'loss');
      drawShares($('lab-up-shares'), evals.upcycled.shares);
    } });

  async function update() {
    const t0 = performance.now();
    const token = guard.begin();
    training.stop();
    fillK();
    try {
      const merged = await ctx.merge(upcycleConfig({ experts: Number(expertsSel.value), k: Number(kSel.value), gateMode: gate.value }));
      if (!guard.current(token)) return;
      upcycled = merged;
      const ev = evaluate(ctx.netOf(merged), ctx.set);
      const diff = largestDifference(ev.logits, ctx.denseEval.logits);
      showValue($('lab-up-accuracy'), ev.accuracy, pct(ev.accuracy));
      showValue($('lab-up-diff'), diff, diff.toExponential(2));
      $('lab-up-config').textContent = merged.yaml;
      drawShares($('lab-up-shares'), ev.shares);
      $('lab-up-progress').textContent = merged.warnings.length ? `The engine says: ${merged.warnings.join(' ')}` : '';
      ctx.shown(t0, merged);
    } catch (e) {
      ctx.fail(e);
    }
  }

  for (const el of [expertsSel, kSel, gate]) el.addEventListener('input', update);
  await update();
}

export { mountUpcycle };
