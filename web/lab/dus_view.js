// Depth up-scaling (SOLAR): the slider's m makes a slice merge of two copies of the model,
// each without m layers (lab_configs.js); the stacked model is measured at once, then,
// on request, trained on in the page beside the original for the same steps (the curve).
import { depthUpscaleConfig } from './lab_configs.js';
import { buildNet, evaluate } from './lab_net.js';
import { trainingControls, drawCurves } from './lab_training.js';
import { NOTES } from './lab_markup.js';
import { pct, latestWins, showValue } from './lab_format.js';

const SERIES = [{ key: 'upscaled', label: 'up-scaled', color: '#2f5bd3' }, { key: 'original', label: 'original', color: '#7a8799', dash: '5 3' }];

async function mountDepthUpscale(root, ctx) {
  const $ = (id) => root.querySelector(`#${id}`);
  const n = ctx.layers;
  const drop = $('lab-dus-drop');
  drop.max = String(n - 1);
  $('lab-dus-note').textContent = NOTES.dus;
  const guard = latestWins();
  let stacked = null;  // the merged model of the current m
  const training = trainingControls({ train: $('lab-dus-train'), stop: $('lab-dus-stop'), progress: $('lab-dus-progress'),
    marker: $('lab-dus-curve'), set: ctx.set, series: SERIES,
    nets: () => stacked && { upscaled: ctx.netOf(stacked), original: buildNet(ctx.dense.weights) },
    onPoint(step, evals, curves) {
      drawCurves($('lab-dus-acc-chart'), curves, SERIES, 'accuracy');
      drawCurves($('lab-dus-loss-chart'), curves, SERIES, 'loss');
    } });

  async function update() {
    const t0 = performance.now();
    const token = guard.begin();
    training.stop();
    const m = Number(drop.value);
    $('lab-dus-drop-value').textContent = String(m);
    try {
      const merged = await ctx.merge(depthUpscaleConfig(n, m));
      if (!guard.current(token)) return;
      stacked = merged;
      const { accuracy } = evaluate(ctx.netOf(merged), ctx.set);
      $('lab-dus-layers').textContent = String(merged.config.num_hidden_layers);
      showValue($('lab-dus-accuracy'), accuracy, pct(accuracy));
      $('lab-dus-config').textContent = merged.yaml;
      $('lab-dus-progress').textContent = '';
      ctx.shown(t0, merged);
    } catch (e) {
      ctx.fail(e);
    }
  }

  drop.addEventListener('input', update);
  await update();
}

export { mountDepthUpscale };
