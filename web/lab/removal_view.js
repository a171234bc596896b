// Layer removal: the chosen block, or one part of it, removed by an engine slice merge
// (lab_configs.js), measured on the test points; and two charts of the same kind of merge:
// accuracy without each block (or part), and without k random blocks (fixed draws).
import { renderLineChart } from '../playground/line_chart.js';
import { createRandom } from '../playground/random.js';
import { removalConfig, randomBlocks } from './lab_configs.js';
import { evaluate } from './lab_net.js';
import { NOTES } from './lab_markup.js';
import { pct, latestWins, showValue } from './lab_format.js';

const DRAWS = 5;
const COLORS = { block: '#2f5bd3', attention: '#e07b39', mlp: '#1b7f4b', random: '#9c3fb8' };
const AXIS = { yMin: 0, yMax: 1, yTicks: [0, 0.25, 0.5, 0.75, 1], yFormat: (v) => `${Math.round(100 * v)}%`, yTitle: 'test accuracy' };

// The removal a control state asks for: {blocks, parts}
function removalOf(kind, block) {
  if (kind === 'none') return {};
  if (kind === 'block') return { blocks: [block] };
  return { parts: [{ layer: block, part: kind }] };
}

async function mountRemoval(root, ctx) {
  const $ = (id) => root.querySelector(`#${id}`);
  const n = ctx.layers;
  const kind = $('lab-remove-kind');
  const block = $('lab-remove-block');
  block.innerHTML = [...Array(n).keys()].map((i) => `<option value="${i}">${i}</option>`).join('');
  block.value = String(n - 1);
  $('lab-draws').textContent = String(DRAWS);
  const guard = latestWins();
  const accuracyOf = async (merge, removal) => evaluate(ctx.netOf(await merge(removalConfig(n, removal))), ctx.set).accuracy;

  async function update() {
    const t0 = performance.now();
    const token = guard.begin();
    try {
      const config = removalConfig(n, removalOf(kind.value, Number(block.value)));
      const merged = await ctx.merge(config);
      if (!guard.current(token)) return;
      const { accuracy } = evaluate(ctx.netOf(merged), ctx.set);
      showValue($('lab-removal-accuracy'), accuracy, pct(accuracy));
      $('lab-removal-config').textContent = merged.yaml;
      ctx.shown(t0, merged);
    } catch (e) {
      ctx.fail(e);
    }
  }

  // The charts: 3n single removals, then DRAWS random draws for each count 1..n−1.
  async function charts() {
    const chart = $('lab-removal-chart');
    chart.dataset.state = 'running';
    const which = {};
    for (const k of ['block', 'attention', 'mlp'])
      which[k] = await Promise.all([...Array(n).keys()].map((i) => accuracyOf(ctx.mergeLater, removalOf(k, i))));
    const xs = [...Array(n).keys()].map(String);
    renderLineChart($('lab-chart-which'), { ...AXIS, xLabels: xs, xTitle: 'block removed', series: [
      { label: 'whole block', color: COLORS.block, values: which.block },
      { label: 'attention-like part', color: COLORS.attention, values: which.attention, dash: '5 3' },
      { label: 'MLP', color: COLORS.mlp, values: which.mlp, dash: '2 2' }],
    references: [{ label: 'whole model', value: ctx.denseEval.accuracy, color: '#7a8799' }] });
    const count = [[ctx.denseEval.accuracy]];
    for (let k = 1; k < n; k++)
      count.push(await Promise.all([...Array(DRAWS).keys()].map((d) => accuracyOf(ctx.mergeLater, { blocks: randomBlocks(createRandom, n, k, d) }))));
    const mean = count.map((xs) => xs.reduce((a, b) => a + b, 0) / xs.length);
    renderLineChart($('lab-chart-count'), { ...AXIS, xLabels: count.map((_, k) => String(k)), xTitle: 'random blocks removed',
      series: [{ label: `mean of ${DRAWS} draws`, color: COLORS.random, values: mean },
        { label: 'worst draw', color: COLORS.random, dash: '4 3', values: count.map((xs) => Math.min(...xs)) }] });
    chart.dataset.table = JSON.stringify({ which, count });
    const late = which.block.slice(n / 2);
    $('lab-removal-note').textContent = `Here: removing block 0 leaves ${pct(which.block[0])}; any one of blocks ` +
      `${n / 2}–${n - 1} leaves at least ${pct(Math.min(...late))}. ${NOTES.removal}`;
    chart.dataset.state = 'done';
  }

  kind.addEventListener('input', update);
  block.addEventListener('input', update);
  await update();
  // The charts' 3n + DRAWS·(n − 1) merges wait until the charts are seen.
  const seen = new IntersectionObserver((entries) => {
    if (!entries.some((e) => e.isIntersecting)) return;
    seen.disconnect();
    charts().catch(ctx.fail);
  });
  seen.observe($('lab-removal-chart'));
}

export { mountRemoval };
