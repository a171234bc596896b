'use strict';
// Training for the playground's demo models (scripts/train_demo.js): backpropagation
// through the shared network of web/playground/mlp.js and Adam, in f64, deterministic
// (fixed seeds, fixed step counts, a fixed order of every sum), so the same bytes come
// out on every run.
const { createRandom } = require('../web/playground/random');
const mlp = require('../web/playground/mlp');

// Glorot-uniform trunk and heads, zero biases.
function initWeights(spec, seed) {
  const r = createRandom(seed);
  const weights = {};
  for (const { name, shape } of mlp.layout(spec)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = new Float64Array(n);
    if (name.endsWith('.weight')) {
      const limit = Math.sqrt(6 / (shape[0] + shape[1]));
      for (let i = 0; i < n; i++) values[i] = (2 * r.uniform() - 1) * limit;
    }
    weights[name] = values;
  }
  return weights;
}

// A batch: rows of [x, y] from each task's own training stream, with each row's task.
// samplers: {task: sample(r) -> [x, y, label]}; streams: {task: random generator}.
function drawBatch(samplers, streams, perTask) {
  const tasks = Object.keys(samplers);
  const n = tasks.length * perTask;
  const xy = new Float64Array(2 * n);
  const labels = new Uint8Array(n);
  const rowTask = new Array(n);
  let row = 0;
  for (const t of tasks) {
    const sample = samplers[t];
    for (let i = 0; i < perTask; i++, row++) {
      const [x, y, label] = sample(streams[t]);
      xy[2 * row] = x;
      xy[2 * row + 1] = y;
      labels[row] = label;
      rowTask[row] = t;
    }
  }
  return { xy, labels, rowTask, n };
}

// Mean binary cross-entropy (logits through a sigmoid) over the batch, and its gradient
// for every tensor in `trained` (names).
function gradients(weights, spec, batch, trained) {
  const { n, xy, labels, rowTask } = batch;
  const W = spec.width;
  const acts = mlp.trunkActivations(weights, spec, xy, n);
  const top = acts[spec.depth];
  const grads = {};
  for (const name of trained) grads[name] = new Float64Array(weights[name].length);
  let dh = new Float64Array(n * W);
  let loss = 0;
  for (let r = 0; r < n; r++) {
    const t = rowTask[r];
    const hw = weights[mlp.headWeight(t)];
    let z = 0;
    for (let j = 0; j < W; j++) z += hw[j] * top[r * W + j];
    const p = 1 / (1 + Math.exp(-z));
    loss += Math.max(z, 0) - z * labels[r] + Math.log1p(Math.exp(-Math.abs(z)));
    const dz = (p - labels[r]) / n;
    const gw = grads[mlp.headWeight(t)];
    if (gw) {
      for (let j = 0; j < W; j++) gw[j] += dz * top[r * W + j];
    }
    for (let j = 0; j < W; j++) dh[r * W + j] = dz * hw[j];
  }
  // The trunk is trained whole or not at all (a linear probe trains only heads).
  for (let l = spec.depth - 1; l >= 0 && grads[mlp.trunkWeight(l)]; l--) {
    const nIn = l === 0 ? spec.inputs : W;
    const w = weights[mlp.trunkWeight(l)];
    const gw = grads[mlp.trunkWeight(l)];
    const gb = grads[mlp.trunkBias(l)];
    const out = acts[l + 1];
    const input = acts[l];
    const dIn = l > 0 ? new Float64Array(n * nIn) : null;
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < W; j++) {
        const a = out[r * W + j];
        const dpre = dh[r * W + j] * (1 - a * a);
        if (dpre === 0) continue;
        gb[j] += dpre;
        for (let i = 0; i < nIn; i++) {
          gw[j * nIn + i] += dpre * input[r * nIn + i];
          if (dIn) dIn[r * nIn + i] += dpre * w[j * nIn + i];
        }
      }
    }
    dh = dIn;
  }
  return { loss: loss / n, grads };
}

// Adam over the named tensors, updating weights in place.
function createAdam(weights, names, { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8 }) {
  const m = {};
  const v = {};
  for (const name of names) {
    m[name] = new Float64Array(weights[name].length);
    v[name] = new Float64Array(weights[name].length);
  }
  let step = 0;
  return (grads, rate = lr) => {
    step++;
    const c1 = 1 - Math.pow(beta1, step);
    const c2 = 1 - Math.pow(beta2, step);
    for (const name of names) {
      const w = weights[name];
      const g = grads[name];
      const mn = m[name];
      const vn = v[name];
      for (let i = 0; i < w.length; i++) {
        mn[i] = beta1 * mn[i] + (1 - beta1) * g[i];
        vn[i] = beta2 * vn[i] + (1 - beta2) * g[i] * g[i];
        w[i] -= (rate * (mn[i] / c1)) / (Math.sqrt(vn[i] / c2) + eps);
      }
    }
  };
}

// SGD with momentum over the named tensors, updating weights in place.
function createSgd(weights, names, { momentum = 0.9 }) {
  const v = {};
  for (const name of names) v[name] = new Float64Array(weights[name].length);
  return (grads, rate) => {
    for (const name of names) {
      const w = weights[name];
      const g = grads[name];
      const vn = v[name];
      for (let i = 0; i < w.length; i++) {
        vn[i] = momentum * vn[i] + g[i];
        w[i] -= rate * vn[i];
      }
    }
  };
}

// Trains `trained` tensors on batches of `tasks` for `steps` steps; the learning rate
// decays linearly to a tenth. -> the last 50 steps' mean loss.
function train(weights, spec, { samplers, trained, steps, perTask, lr, seed, optimizer = 'adam' }) {
  const streams = Object.fromEntries(Object.keys(samplers).map((t, i) => [t, createRandom(seed + 101 * i)]));
  const adam = optimizer === 'sgd' ? createSgd(weights, trained, {}) : createAdam(weights, trained, { lr });
  let recent = 0;
  for (let s = 0; s < steps; s++) {
    const { loss, grads } = gradients(weights, spec, drawBatch(samplers, streams, perTask), trained);
    adam(grads, lr * (1 - 0.9 * (s / steps)));
    if (s >= steps - 50) recent += loss / 50;
  }
  return recent;
}

// Every value rounded to f32, as the .safetensors files will hold it.
function roundToF32(weights) {
  const out = {};
  for (const [name, values] of Object.entries(weights)) out[name] = Float64Array.from(values, Math.fround);
  return out;
}

module.exports = { initWeights, train, roundToF32, createAdam };
