// The engine configs of the layer lab's experiments, as plain JSON (the page shows them as
// YAML through ../config_yaml.js, the text scripts/wasmerge takes next to web/demo/):
// layer removal and SOLAR's depth up-scaling are passthrough slice merges (SPEC §5), a
// block's attention-like or MLP part is removed by scaling its output projection to 0 with
// a filtered `scale`, and sparse upcycling is a mergekit-moe config (SPEC §7).
const MODEL = './lab';

// The runs of kept layers [a, b) of 0..n−1 once `removed` are gone.
function keptRuns(n, removed) {
  const runs = [];
  for (let i = 0; i < n; i++) {
    if (removed.includes(i)) continue;
    const last = runs[runs.length - 1];
    if (last && last[1] === i) last[1] = i + 1;
    else runs.push([i, i + 1]);
  }
  return runs;
}

// The tensor whose zeroing removes a part of layer i: what the part adds to the residual.
const PART_OUTPUT = { attention: 'self_attn.o_proj', mlp: 'mlp.down_proj' };

// layers: the model's layer count; blocks: the layers removed whole; parts: [{layer, part:
// 'attention' | 'mlp'}] removed from layers that stay.
function removalConfig(layers, { blocks = [], parts = [] } = {}) {
  const scale = parts.map(({ layer, part }) => ({ filter: `model.layers.${layer}.${PART_OUTPUT[part]}`, value: 0 }));
  const source = (range) => {
    const s = { model: MODEL, layer_range: range };
    if (scale.length) s.parameters = { scale: [...scale, { value: 1 }] };
    return s;
  };
  return { merge_method: 'passthrough', slices: keptRuns(layers, blocks).map((range) => ({ sources: [source(range)] })), dtype: 'float32' };
}

// SOLAR: two copies of the n layers, the first without its last `drop`, the second without
// its first `drop`, stacked: 2(n − drop) layers.
function depthUpscaleConfig(layers, drop) {
  return {
    merge_method: 'passthrough',
    slices: [{ sources: [{ model: MODEL, layer_range: [0, layers - drop] }] }, { sources: [{ model: MODEL, layer_range: [drop, layers] }] }],
    dtype: 'float32',
  };
}

// Sparse upcycling: every MLP copied into `experts` experts (all from the same model), a
// router per layer as gate_mode makes it, top-k routing.
function upcycleConfig({ experts, k, gateMode, seed = 0 }) {
  return {
    base_model: MODEL, gate_mode: gateMode, experts_per_token: k, dtype: 'float32', random_seed: seed,
    experts: Array.from({ length: experts }, () => ({ source_model: MODEL })),
  };
}

// `count` distinct layers of 0..n−1 for draw `d` of a fixed seed: a Fisher–Yates prefix
// driven by random.js, so the chart's random removals are the same on every visit.
function randomBlocks(createRandom, n, count, d, seed = 31) {
  const r = createRandom(seed + 1000 * count + d);
  const order = [...Array(n).keys()];
  for (let i = 0; i < count; i++) {
    const j = i + r.int(n - i);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order.slice(0, count).sort((a, b) => a - b);
}

export { removalConfig, depthUpscaleConfig, upcycleConfig, randomBlocks, keptRuns, MODEL };
