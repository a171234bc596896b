'use strict';
// The layer lab's network in node (web/lab/lab_net.js): its gradients, dense and Mixtral,
// against central finite differences of its own loss (the forward pass itself is checked
// against an independent evaluation in tests/browser/lab.test.js); and the configs'
// layer arithmetic (web/lab/lab_configs.js).
const path = require('path');
const { test, assert, ROOT } = require('../cli/harness');
const { readSafetensors } = require('../../scripts/lib/st_io');
const { buildNet, batchGradients } = require('../../web/lab/lab_net.js');
const { trainStream } = require('../../web/lab/lab_task.js');
const { createRandom } = require('../../web/playground/random.js');
const { keptRuns, randomBlocks, removalConfig, depthUpscaleConfig } = require('../../web/lab/lab_configs.js');

function demoWeights() {
  const { tensors } = readSafetensors(path.join(ROOT, 'web/demo/lab/model.safetensors'));
  return Object.fromEntries([...tensors].map(([n, t]) => [n, t.values]));
}

// The demo's MLPs as a Mixtral layer of 3 experts (perturbed copies) and a random router.
function asMixtral(weights) {
  const r = createRandom(3);
  const out = {};
  for (const [name, v] of Object.entries(weights)) {
    const m = /^(model\.layers\.\d+\.)mlp\.(gate|up|down)_proj\.weight$/.exec(name);
    if (!m) { out[name] = v; continue; }
    const w = { gate: 'w1', up: 'w3', down: 'w2' }[m[2]];
    for (let e = 0; e < 3; e++) out[`${m[1]}block_sparse_moe.experts.${e}.${w}.weight`] = v.map((x) => x + 0.05 * e * r.normal());
    out[`${m[1]}block_sparse_moe.gate.weight`] = Float64Array.from({ length: 3 * 16 }, () => r.normal());
  }
  return out;
}

function worstGradientError(net) {
  const batch = trainStream(5)(2);
  const { grads } = batchGradients(net, batch);
  let worst = 0;
  for (const [name, w] of Object.entries(net.tensors)) {
    for (const i of [Math.floor(w.length / 2)]) {
      const keep = w[i];
      const h = 1e-6;
      w[i] = keep + h;
      const plus = batchGradients(net, batch).loss;
      w[i] = keep - h;
      const minus = batchGradients(net, batch).loss;
      w[i] = keep;
      const numeric = (plus - minus) / (2 * h);
      worst = Math.max(worst, Math.abs(numeric - grads[name][i]) / Math.max(1e-4, Math.abs(numeric)));
    }
  }
  return worst;
}

test('lab_net: gradients of the dense and the Mixtral network equal finite differences', () => {
  const weights = demoWeights();
  assert.ok(worstGradientError(buildNet(weights)) < 1e-4, 'dense');
  assert.ok(worstGradientError(buildNet(asMixtral(weights), { k: 2 })) < 1e-4, 'mixtral');
});

test('lab_configs: removals keep the other layers in order; SOLAR stacks 2(n − m) layers; random draws are distinct', () => {
  assert.deepStrictEqual(keptRuns(8, [0, 3, 4, 7]), [[1, 3], [5, 7]]);
  assert.deepStrictEqual(removalConfig(8, { blocks: [2] }).slices.map((s) => s.sources[0].layer_range), [[0, 2], [3, 8]]);
  assert.deepStrictEqual(removalConfig(8, { parts: [{ layer: 1, part: 'mlp' }] }).slices[0].sources[0].parameters.scale,
    [{ filter: 'model.layers.1.mlp.down_proj', value: 0 }, { value: 1 }]);
  assert.deepStrictEqual(depthUpscaleConfig(8, 3).slices.map((s) => s.sources[0].layer_range), [[0, 5], [3, 8]]);
  for (let k = 1; k < 8; k++) {
    const drawn = randomBlocks(createRandom, 8, k, 2);
    assert.strictEqual(new Set(drawn).size, k);
    assert.ok(drawn.every((i) => i >= 0 && i < 8));
  }
});
