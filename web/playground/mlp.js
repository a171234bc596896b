// The playground's network and its forward pass, shared by the demo trainer
// (scripts/train_demo.js), the page's worker (which evaluates the engine's merged
// weights) and the tests (which evaluate scripts/wasmerge's output the same way).
//
// A trunk of tanh layers 2 -> width -> ... -> width shared by every task, and one linear
// head per task (width -> 1 logit; class 1 when the logit is > 0). Heads have no bias: a
// one-element tensor would be all or nothing under TIES trimming (floor(density * 1) = 0
// keeps nothing), which says more about tensor sizes than about merging. Tensor names follow
// the Hugging Face habit ("trunk.layers.i.") so the engine's per-layer gradients apply.
const trunkWeight = (i) => `trunk.layers.${i}.weight`;
const trunkBias = (i) => `trunk.layers.${i}.bias`;
const headWeight = (task) => `heads.${task}.weight`;

// spec: {inputs: 2, width, depth, tasks: [names]} -> [{name, shape}] in file order.
function layout({ inputs, width, depth, tasks }) {
  const out = [];
  for (let i = 0; i < depth; i++) {
    out.push({ name: trunkWeight(i), shape: [width, i === 0 ? inputs : width] });
    out.push({ name: trunkBias(i), shape: [width] });
  }
  for (const t of tasks) {
    out.push({ name: headWeight(t), shape: [1, width] });
  }
  return out;
}

// One dense tanh layer over n rows: out[r][j] = tanh(b[j] + sum_i w[j][i] in[r][i]),
// each sum in the order i = 0, 1, ... Four rows at a time share every weight they
// load and keep four independent sums in flight: about 1.7 times as fast as one row at
// a time, which the page's 100 ms budget needs. Same bits either way.
function denseTanh(w, b, input, n, nIn, nOut) {
  const out = new Float64Array(n * nOut);
  let r = 0;
  for (; r + 4 <= n; r += 4) {
    const x0 = r * nIn;
    const x1 = x0 + nIn;
    const x2 = x1 + nIn;
    const x3 = x2 + nIn;
    for (let j = 0; j < nOut; j++) {
      const wj = j * nIn;
      let s0 = b[j];
      let s1 = s0;
      let s2 = s0;
      let s3 = s0;
      for (let i = 0; i < nIn; i++) {
        const wi = w[wj + i];
        s0 += wi * input[x0 + i];
        s1 += wi * input[x1 + i];
        s2 += wi * input[x2 + i];
        s3 += wi * input[x3 + i];
      }
      out[r * nOut + j] = Math.tanh(s0);
      out[(r + 1) * nOut + j] = Math.tanh(s1);
      out[(r + 2) * nOut + j] = Math.tanh(s2);
      out[(r + 3) * nOut + j] = Math.tanh(s3);
    }
  }
  for (; r < n; r++) {
    const x = r * nIn;
    for (let j = 0; j < nOut; j++) {
      const wj = j * nIn;
      let s = b[j];
      for (let i = 0; i < nIn; i++) s += w[wj + i] * input[x + i];
      out[r * nOut + j] = Math.tanh(s);
    }
  }
  return out;
}

// weights: {name: array of numbers}; xy: 2n coordinates.
// -> [xy, h1, ..., hDepth]: every layer's activations (the trainer backpropagates
// through them; evaluation only needs the last).
function trunkActivations(weights, spec, xy, n) {
  const acts = [xy];
  for (let i = 0; i < spec.depth; i++) {
    const nIn = i === 0 ? spec.inputs : spec.width;
    acts.push(denseTanh(weights[trunkWeight(i)], weights[trunkBias(i)], acts[i], n, nIn, spec.width));
  }
  return acts;
}

const trunkFeatures = (weights, spec, xy, n) => trunkActivations(weights, spec, xy, n)[spec.depth];

// The task's logit for each of n rows of trunk features.
function headLogits(weights, spec, task, features, n) {
  const w = weights[headWeight(task)];
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let j = 0; j < spec.width; j++) s += w[j] * features[r * spec.width + j];
    out[r] = s;
  }
  return out;
}

// Fraction of the set {xy, labels} the task's head gets right on these trunk features.
function accuracyOn(weights, spec, task, features, labels) {
  const logits = headLogits(weights, spec, task, features, labels.length);
  let right = 0;
  for (let r = 0; r < labels.length; r++) if ((logits[r] > 0 ? 1 : 0) === labels[r]) right++;
  return right / labels.length;
}

function accuracy(weights, spec, task, set) {
  const features = trunkFeatures(weights, spec, set.xy, set.labels.length);
  return accuracyOn(weights, spec, task, features, set.labels);
}

// A size x size grid over [-extent, extent]^2, row 0 at the top (y = +extent), as 2n
// coordinates: where the page draws decision boundaries.
function grid(size, extent) {
  const xy = new Float64Array(2 * size * size);
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      const i = row * size + col;
      xy[2 * i] = -extent + (2 * extent * (col + 0.5)) / size;
      xy[2 * i + 1] = extent - (2 * extent * (row + 0.5)) / size;
    }
  }
  return xy;
}

export { layout, trunkActivations, trunkFeatures, headLogits, accuracy, grid, trunkWeight, trunkBias, headWeight };
