// The layer lab's network: a tiny Llama-shaped residual stack, read from its tensor names
// so the engine's slice and MoE merges apply unchanged (SPEC §5, §7). Forward, loss and
// backward in f64 over one point at a time, in a fixed order of every sum.
//   h0 = x·E[0] + y·E[1] + E[2]                     model.embed_tokens.weight [3, H]
//   per layer i (model.layers.i.):
//     h += O·V·rms(h)·g1       self_attn.{v,o}_proj, input_layernorm: attention over one
//                              token (softmax of one score is 1, so q and k drop out)
//     h += MLP(rms(h)·g2)      post_attention_layernorm; mlp.{gate,up,down}_proj (SwiGLU),
//                              or Mixtral's block_sparse_moe: router `gate` [E, H] and
//                              experts.e.{w1 gate, w3 up, w2 down}, top-k softmax routing
//   logits = lm_head·rms(h)·g                        model.norm.weight, lm_head.weight [C, H]
const LAYER = /^model\.layers\.(\d+)\.(.+)$/;

// weights: {name: Float32Array | Float64Array}, opts: {k (experts per point), eps}
// -> the network, its tensors as Float64Array (trained in place) under their names
function buildNet(weights, { k = 2, eps = 1e-5 } = {}) {
  const tensors = {};
  const t = (name) => {
    if (!weights[name]) throw new Error(`the model has no tensor '${name}'`);
    if (!tensors[name]) tensors[name] = Float64Array.from(weights[name]);
    return { name, v: tensors[name] };
  };
  const embed = t('model.embed_tokens.weight');
  const H = embed.v.length / 3;
  const indices = [...new Set(Object.keys(weights).map((n) => LAYER.exec(n)).filter(Boolean).map((m) => Number(m[1])))]
    .sort((a, b) => a - b);
  const layers = indices.map((i) => {
    const p = `model.layers.${i}.`;
    const layer = { index: i, g1: t(`${p}input_layernorm.weight`), v: t(`${p}self_attn.v_proj.weight`),
      o: t(`${p}self_attn.o_proj.weight`), g2: t(`${p}post_attention_layernorm.weight`) };
    if (weights[`${p}mlp.gate_proj.weight`]) {
      layer.experts = [{ gate: t(`${p}mlp.gate_proj.weight`), up: t(`${p}mlp.up_proj.weight`), down: t(`${p}mlp.down_proj.weight`) }];
    } else {
      const q = `${p}block_sparse_moe.`;
      layer.router = t(`${q}gate.weight`);
      const E = layer.router.v.length / H;
      layer.experts = Array.from({ length: E }, (_, e) => ({
        gate: t(`${q}experts.${e}.w1.weight`), up: t(`${q}experts.${e}.w3.weight`), down: t(`${q}experts.${e}.w2.weight`) }));
      layer.k = Math.min(k, E);
    }
    return layer;
  });
  const I = layers.length ? layers[0].experts[0].gate.v.length / H : 0;
  const norm = t('model.norm.weight');
  const head = t('lm_head.weight');
  return { H, I, C: head.v.length / H, eps, embed, layers, norm, head, tensors };
}

// out[r] = Σ_c W[r, c]·x[c]
function matvec(W, rows, cols, x, out) {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += W[r * cols + c] * x[c];
    out[r] = s;
  }
  return out;
}

// RMS normalization: -> {y, r (1/rms)}
function rmsNorm(h, g, eps) {
  const y = new Float64Array(h.length);
  return { y, r: rmsInto(h, g, eps, y) };
}

const sigmoid = (z) => 1 / (1 + Math.exp(-z));

// The chosen experts of a point: the k largest router scores (the lower index first at a
// tie) and their softmax weights. -> {chosen: [e], w: [weight]}
function route(layer, b, H) {
  const E = layer.experts.length;
  if (!layer.router) return { chosen: [0], w: [1], z: null };
  const z = matvec(layer.router.v, E, H, b, new Float64Array(E));
  const order = [...z.keys()].sort((p, q) => z[q] - z[p] || p - q).slice(0, layer.k);
  const m = z[order[0]];
  const ex = order.map((e) => Math.exp(z[e] - m));
  const sum = ex.reduce((a, x) => a + x, 0);
  return { chosen: order, w: ex.map((x) => x / sum), z };
}

// One SwiGLU expert on b -> {out, gz, u, s}
function expertForward(ex, b, H, I) {
  const gz = matvec(ex.gate.v, I, H, b, new Float64Array(I));
  const u = matvec(ex.up.v, I, H, b, new Float64Array(I));
  const s = new Float64Array(I);
  for (let j = 0; j < I; j++) s[j] = gz[j] * sigmoid(gz[j]) * u[j];
  return { out: matvec(ex.down.v, H, I, s, new Float64Array(H)), gz, u, s };
}

// One point through the network. -> {logits, caches (for backward), routes: [[e]] per layer}
function forward(net, x, y) {
  const { H, I, eps } = net;
  const E = net.embed.v;
  let h = new Float64Array(H);
  for (let j = 0; j < H; j++) h[j] = x * E[j] + y * E[H + j] + E[2 * H + j];
  const caches = [];
  for (const L of net.layers) {
    const c = { h0: h };
    c.n1 = rmsNorm(h, L.g1.v, eps);
    c.vv = matvec(L.v.v, H, H, c.n1.y, new Float64Array(H));
    const m = matvec(L.o.v, H, H, c.vv, new Float64Array(H));
    const h1 = new Float64Array(H);
    for (let j = 0; j < H; j++) h1[j] = h[j] + m[j];
    c.h1 = h1;
    c.n2 = rmsNorm(h1, L.g2.v, eps);
    c.route = route(L, c.n2.y, H);
    c.outs = c.route.chosen.map((e) => expertForward(L.experts[e], c.n2.y, H, I));
    h = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      let s = 0;
      c.outs.forEach((o, q) => { s += c.route.w[q] * o.out[j]; });
      h[j] = h1[j] + s;
    }
    caches.push(c);
  }
  const nf = rmsNorm(h, net.norm.v, eps);
  const logits = matvec(net.head.v, net.C, H, nf.y, new Float64Array(net.C));
  return { logits, caches, hLast: h, nf, routes: caches.map((c) => c.route.chosen) };
}

// dL/dh of h -> y = rms(h)·g, given dy; adds dL/dg into dg.
function rmsBackward(h, g, n, dy, dg) {
  const N = h.length;
  let dot = 0;
  for (let j = 0; j < N; j++) {
    dg[j] += dy[j] * h[j] * n.r;
    dot += dy[j] * g[j] * h[j];
  }
  const dh = new Float64Array(N);
  const r3 = (n.r * n.r * n.r) / N;
  for (let j = 0; j < N; j++) dh[j] = n.r * g[j] * dy[j] - h[j] * r3 * dot;
  return dh;
}

// G += dy ⊗ x; returns Wᵀ·dy
function linearBackward(W, G, rows, cols, x, dy) {
  const dx = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const d = dy[r];
    if (d === 0) continue;
    for (let c = 0; c < cols; c++) {
      G[r * cols + c] += d * x[c];
      dx[c] += d * W[r * cols + c];
    }
  }
  return dx;
}

// Cross-entropy of one point's logits; adds its gradients (times `scale`) into grads
// ({name: Float64Array}). -> the loss
function backward(net, x, y, label, grads, scale) {
  const { H, I } = net;
  const f = forward(net, x, y);
  const z = f.logits;
  const m = Math.max(...z);
  let sum = 0;
  for (const v of z) sum += Math.exp(v - m);
  const loss = m + Math.log(sum) - z[label];
  const dz = new Float64Array(net.C);
  for (let c = 0; c < net.C; c++) dz[c] = scale * (Math.exp(z[c] - m) / sum - (c === label ? 1 : 0));
  const dnf = linearBackward(net.head.v, grads[net.head.name], net.C, H, f.nf.y, dz);
  let dh = rmsBackward(f.hLast, net.norm.v, f.nf, dnf, grads[net.norm.name]);
  for (let li = net.layers.length - 1; li >= 0; li--) {
    const L = net.layers[li];
    const c = f.caches[li];
    const b = c.n2.y;
    const db = new Float64Array(H);
    const dw = c.route.w.map(() => 0);
    c.route.chosen.forEach((e, q) => {
      const ex = L.experts[e];
      const o = c.outs[q];
      const dout = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        dout[j] = c.route.w[q] * dh[j];
        dw[q] += dh[j] * o.out[j];
      }
      const ds = linearBackward(ex.down.v, grads[ex.down.name], H, I, o.s, dout);
      const dgz = new Float64Array(I);
      const du = new Float64Array(I);
      for (let j = 0; j < I; j++) {
        const sg = sigmoid(o.gz[j]);
        du[j] = ds[j] * o.gz[j] * sg;
        dgz[j] = ds[j] * o.u[j] * sg * (1 + o.gz[j] * (1 - sg));
      }
      const a1 = linearBackward(ex.gate.v, grads[ex.gate.name], I, H, b, dgz);
      const a2 = linearBackward(ex.up.v, grads[ex.up.name], I, H, b, du);
      for (let j = 0; j < H; j++) db[j] += a1[j] + a2[j];
    });
    if (L.router) {
      // softmax over the chosen scores: dz_e = w_e·(dw_e − Σ w·dw)
      const E = L.experts.length;
      let mean = 0;
      c.route.w.forEach((w, q) => { mean += w * dw[q]; });
      const dzr = new Float64Array(E);
      c.route.chosen.forEach((e, q) => { dzr[e] = c.route.w[q] * (dw[q] - mean); });
      const a = linearBackward(L.router.v, grads[L.router.name], E, H, b, dzr);
      for (let j = 0; j < H; j++) db[j] += a[j];
    }
    const dh1 = rmsBackward(c.h1, L.g2.v, c.n2, db, grads[L.g2.name]);
    for (let j = 0; j < H; j++) dh1[j] += dh[j];
    const dvv = linearBackward(L.o.v, grads[L.o.name], H, H, c.vv, dh1);
    const dn1 = linearBackward(L.v.v, grads[L.v.name], H, H, c.n1.y, dvv);
    dh = rmsBackward(c.h0, L.g1.v, c.n1, dn1, grads[L.g1.name]);
    for (let j = 0; j < H; j++) dh[j] += dh1[j];
  }
  const gE = grads[net.embed.name];
  for (let j = 0; j < H; j++) {
    gE[j] += dh[j] * x;
    gE[H + j] += dh[j] * y;
    gE[2 * H + j] += dh[j];
  }
  return loss;
}

// Mean loss over a batch {xy, labels, n}, and its gradient for every tensor.
function batchGradients(net, batch) {
  const grads = Object.fromEntries(Object.entries(net.tensors).map(([name, v]) => [name, new Float64Array(v.length)]));
  let loss = 0;
  for (let i = 0; i < batch.n; i++) loss += backward(net, batch.xy[2 * i], batch.xy[2 * i + 1], batch.labels[i], grads, 1 / batch.n);
  return { loss: loss / batch.n, grads };
}

// rms(h)·g into y, without allocating (evaluate's loop); -> r (1/rms).
function rmsInto(h, g, eps, y) {
  let ss = 0;
  for (let j = 0; j < h.length; j++) ss += h[j] * h[j];
  const r = 1 / Math.sqrt(ss / h.length + eps);
  for (let j = 0; j < h.length; j++) y[j] = h[j] * r * g[j];
  return r;
}

// The forward pass of `forward` over many points, with the same arithmetic in the same order
// (the same logits to the bit) but no per-point allocations: evaluation is what a control
// change waits for. -> {accuracy, loss (mean cross-entropy), logits: Float64Array(n·C),
// shares: per layer, the fraction of (point, slot) routed to each expert (null if dense)}
function evaluate(net, set) {
  const { H, I, C, eps } = net;
  const E = net.embed.v;
  const most = Math.max(1, ...net.layers.map((L) => L.experts.length));
  const [h, n1, vv, m, n2, mix, out] = Array.from({ length: 7 }, () => new Float64Array(H));
  const [gz, u, s] = Array.from({ length: 3 }, () => new Float64Array(I));
  const z = new Float64Array(most);
  const chosen = new Int32Array(most);
  const w = new Float64Array(most);
  const logits = new Float64Array(set.n * C);
  const counts = net.layers.map((L) => new Float64Array(L.experts.length));
  let right = 0;
  let loss = 0;
  for (let i = 0; i < set.n; i++) {
    const x = set.xy[2 * i];
    const y = set.xy[2 * i + 1];
    for (let j = 0; j < H; j++) h[j] = x * E[j] + y * E[H + j] + E[2 * H + j];
    net.layers.forEach((L, l) => {
      rmsInto(h, L.g1.v, eps, n1);
      matvec(L.v.v, H, H, n1, vv);
      matvec(L.o.v, H, H, vv, m);
      for (let j = 0; j < H; j++) h[j] += m[j];
      rmsInto(h, L.g2.v, eps, n2);
      let k = 1;
      chosen[0] = 0;
      w[0] = 1;
      if (L.router) {
        // the k largest scores, the lower index first at a tie (route's order), softmax over them
        const nE = L.experts.length;
        matvec(L.router.v, nE, H, n2, z);
        k = L.k;
        for (let q = 0; q < k; q++) {
          let best = -1;
          for (let e = 0; e < nE; e++) {
            let taken = false;
            for (let p = 0; p < q; p++) taken = taken || chosen[p] === e;
            if (!taken && (best < 0 || z[e] > z[best])) best = e;
          }
          chosen[q] = best;
        }
        let sum = 0;
        for (let q = 0; q < k; q++) {
          w[q] = Math.exp(z[chosen[q]] - z[chosen[0]]);
          sum += w[q];
        }
        for (let q = 0; q < k; q++) w[q] /= sum;
      }
      mix.fill(0);
      for (let q = 0; q < k; q++) {
        const ex = L.experts[chosen[q]];
        counts[l][chosen[q]]++;
        matvec(ex.gate.v, I, H, n2, gz);
        matvec(ex.up.v, I, H, n2, u);
        for (let j = 0; j < I; j++) s[j] = gz[j] * sigmoid(gz[j]) * u[j];
        matvec(ex.down.v, H, I, s, out);
        for (let j = 0; j < H; j++) mix[j] += w[q] * out[j];
      }
      for (let j = 0; j < H; j++) h[j] += mix[j];
    });
    rmsInto(h, net.norm.v, eps, n1);
    const zl = logits.subarray(i * C, (i + 1) * C);
    matvec(net.head.v, C, H, n1, zl);
    let best = 0;
    let top = zl[0];
    for (let c = 1; c < C; c++) top = Math.max(top, zl[c]);
    let sum = 0;
    for (let c = 0; c < C; c++) {
      if (zl[c] > zl[best]) best = c;
      sum += Math.exp(zl[c] - top);
    }
    loss += top + Math.log(sum) - zl[set.labels[i]];
    if (best === set.labels[i]) right++;
  }
  const shares = net.layers.map((L, l) => (L.router ? Array.from(counts[l], (c) => c / (set.n * L.k)) : null));
  return { accuracy: right / set.n, loss: loss / set.n, logits, shares };
}

export { buildNet, forward, batchGradients, evaluate };
