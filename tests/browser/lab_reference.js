'use strict';
// An independent evaluation of the layer lab's models for its tests, in f64 from the files
// the engine (or the generator) wrote: config.json says Llama or Mixtral, the tensors are
// read by name with scripts/lib/st_io.js, and the forward pass follows the model's
// definition (web/lab/lab_net.js's header) with its own code: rows of arrays, one point at
// a time. `skip` leaves parts out without a merge: {blocks: [i], attention: [i], mlp: [i]}.
const fs = require('fs');
const path = require('path');
const { readSafetensors } = require('../../scripts/lib/st_io');

function loadModel(dir) {
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const { tensors } = readSafetensors(path.join(dir, 'model.safetensors'));
  const rows = (name) => {
    const t = tensors.get(name);
    if (!t) throw new Error(`${dir}: no tensor ${name}`);
    if (t.shape.length === 1) return Array.from(t.values);
    const [r, c] = t.shape;
    return Array.from({ length: r }, (_, i) => Array.from(t.values.slice(i * c, (i + 1) * c)));
  };
  return { config, rows };
}

const dot = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0);
const apply = (m, x) => m.map((row) => dot(row, x));
const norm = (h, g, eps) => {
  const scale = 1 / Math.sqrt(h.reduce((s, x) => s + x * x, 0) / h.length + eps);
  return h.map((x, j) => x * scale * g[j]);
};
const swiglu = (gate, up, down, x) => {
  const g = apply(gate, x);
  const u = apply(up, x);
  return apply(down, g.map((z, j) => (z / (1 + Math.exp(-z))) * u[j]));
};

// -> {logits(x, y) -> [C], routes: counts per layer (Mixtral)}
function referenceModel(dir, skip = {}) {
  const { config, rows } = loadModel(dir);
  const eps = config.rms_norm_eps;
  const moe = config.model_type === 'mixtral';
  const k = config.num_experts_per_tok;
  const E = rows('model.embed_tokens.weight');
  const layers = [];
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const p = `model.layers.${i}.`;
    const L = { g1: rows(`${p}input_layernorm.weight`), v: rows(`${p}self_attn.v_proj.weight`), o: rows(`${p}self_attn.o_proj.weight`),
      g2: rows(`${p}post_attention_layernorm.weight`), index: i };
    if (moe) {
      L.router = rows(`${p}block_sparse_moe.gate.weight`);
      L.experts = L.router.map((_, e) => ['w1', 'w3', 'w2'].map((w) => rows(`${p}block_sparse_moe.experts.${e}.${w}.weight`)));
    } else L.experts = [['gate_proj', 'up_proj', 'down_proj'].map((w) => rows(`${p}mlp.${w}.weight`))];
    layers.push(L);
  }
  const g = rows('model.norm.weight');
  const head = rows('lm_head.weight');
  const counts = layers.map((L) => new Array(L.experts.length).fill(0));
  const has = (list, i) => (list || []).includes(i);
  function logits(x, y) {
    let h = E[0].map((e0, j) => x * e0 + y * E[1][j] + E[2][j]);
    layers.forEach((L, li) => {
      if (has(skip.blocks, L.index)) return;
      if (!has(skip.attention, L.index)) {
        const a = apply(L.o, apply(L.v, norm(h, L.g1, eps)));
        h = h.map((v, j) => v + a[j]);
      }
      if (has(skip.mlp, L.index)) return;
      const b = norm(h, L.g2, eps);
      let out;
      if (!moe) out = swiglu(...L.experts[0], b);
      else {
        const z = apply(L.router, b);
        const top = z.map((v, e) => [v, e]).sort((p, q) => q[0] - p[0] || p[1] - q[1]).slice(0, k);
        const w = top.map(([v]) => Math.exp(v - top[0][0]));
        const total = w.reduce((s, v) => s + v, 0);
        out = new Array(h.length).fill(0);
        top.forEach(([, e], q) => {
          counts[li][e]++;
          const o = swiglu(...L.experts[e], b);
          for (let j = 0; j < h.length; j++) out[j] += (w[q] / total) * o[j];
        });
      }
      h = h.map((v, j) => v + out[j]);
    });
    return apply(head, norm(h, g, eps));
  }
  return { logits, counts, k, config };
}

// -> {accuracy, logits: [[C]], shares (Mixtral: per layer, per expert)} on {xy, labels, n}
function referenceEval(dir, set, skip) {
  const m = referenceModel(dir, skip);
  const all = [];
  let right = 0;
  for (let i = 0; i < set.n; i++) {
    const z = m.logits(set.xy[2 * i], set.xy[2 * i + 1]);
    all.push(z);
    const best = z.indexOf(Math.max(...z));
    if (best === set.labels[i]) right++;
  }
  const shares = m.config.model_type === 'mixtral' ? m.counts.map((c) => c.map((x) => x / (set.n * m.k))) : null;
  return { accuracy: right / set.n, logits: all, shares };
}

module.exports = { referenceEval };
