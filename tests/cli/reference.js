'use strict';
// The f64 reference of SPEC §2 for the methods the CLI tests use, element by element.
//   linear:          Σ w_k m_k / Σ w_k (normalize) or Σ w_k m_k
//   task_arithmetic: b + λ Σ w_k (m_k − b) / (normalize ? Σ w_k : 1)
//   ties:            referenceTies below
// and rounding to the output dtypes (toDtype).
function gradient(values, t) {
  if (!Array.isArray(values)) return values;
  const x = t * (values.length - 1);
  const i0 = Math.floor(x);
  const i1 = Math.min(values.length - 1, i0 + 1);
  return (1 - (x - i0)) * values[i0] + (x - i0) * values[i1];
}

function layerT(name, nLayers) {
  const m = /(?:^|\.)(?:layers|h|blocks)\.(\d+)\./.exec(name);
  if (!m) return 0;
  return nLayers > 1 ? Number(m[1]) / (nLayers - 1) : 1;
}

function referenceMerge({ method, base, models, weights, lambda = 1, normalize, nLayers }) {
  const out = new Map();
  for (const [name, refValues] of (base || models[0])) {
    const t = layerT(name, nLayers);
    const w = weights.map((wk) => gradient(wk, t));
    const wsum = w.reduce((a, b) => a + b, 0);
    const divisor = normalize && Math.abs(wsum) >= 1e-8 ? wsum : 1;
    out.set(name, refValues.map((_, i) => {
      if (method === 'linear') return models.reduce((acc, m, k) => acc + w[k] * m.get(name)[i], 0) / divisor;
      const b = base.get(name)[i];
      return b + lambda * models.reduce((acc, m, k) => acc + w[k] * (m.get(name)[i] - b), 0) / divisor;
    }));
  }
  return out;
}

// x (any double) rounded to nearest, ties to even, onto the grid of dtype (F32, BF16, F16),
// from the formats' definitions: `bits` significant bits, subnormals below the smallest
// normal, ±inf past the largest finite value.
function toDtype(dtype, x) {
  if (!Number.isFinite(x) || x === 0) return x;
  const { bits, minExp, maxExp } = { F32: { bits: 24, minExp: -126, maxExp: 127 },
                                     BF16: { bits: 8, minExp: -126, maxExp: 127 },
                                     F16: { bits: 11, minExp: -14, maxExp: 15 } }[dtype];
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  while (2 ** e > a) e--;
  while (2 ** (e + 1) <= a) e++;
  const quantum = 2 ** (Math.max(e, minExp) + 1 - bits);
  const q = a / quantum;  // exact: a power-of-two scaling
  const floor = Math.floor(q);
  const rest = q - floor;
  const n = rest > 0.5 || (rest === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
  const r = n * quantum;
  const max = (2 - 2 ** (1 - bits)) * 2 ** maxExp;
  return Math.sign(x) * (r > max ? Infinity : r);
}

// SPEC §2's TIES on one tensor, in f64 except δ, which is the f32 difference the engine
// ranks (so the kept set is the same): base and models[k].values are arrays of numbers.
//   keep floor(d·n) largest |δ| (equal |δ|: lower index first), ω = w·δ_kept,
//   γ = sign(Σω) (≥ 0 → +1), mixed = Σ_{sign ω_k = γ} ω_k / Σ_{agree} w_k (normalize; 0 → 1),
//   result = b + λ·mixed.
function referenceTies({ base, models, lambda = 1, normalize = true }) {
  const n = base.length;
  const kept = models.map(({ values, weight, density }) => {
    const delta = values.map((m, i) => Math.fround(m - base[i]));
    const keep = density >= 1 ? n : Math.floor(density * n);
    const order = delta.map((_, i) => i).sort((i, j) => Math.abs(delta[j]) - Math.abs(delta[i]) || i - j);
    const omega = new Array(n).fill(0);
    for (const i of order.slice(0, keep)) omega[i] = weight * delta[i];
    return omega;
  });
  return base.map((b, i) => {
    const sum = kept.reduce((acc, omega) => acc + omega[i], 0);
    const gamma = sum >= 0 ? 1 : -1;
    let mixed = 0;
    let divisor = 0;
    kept.forEach((omega, k) => {
      if (omega[i] !== 0 && Math.sign(omega[i]) === gamma) {
        mixed += omega[i];
        divisor += models[k].weight;
      }
    });
    if (normalize) mixed /= divisor === 0 ? 1 : divisor;
    return b + lambda * mixed;
  });
}

// |got − ref| within one unit in the last place of dtype plus f32 rounding of the inputs.
function withinTolerance(dtype, got, ref, scale) {
  const bits = { BF16: 8, F16: 11, F32: 24 }[dtype];
  const minNormal = dtype === 'F16' ? 2 ** -14 : 2 ** -126;
  const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(ref), minNormal))) + 1 - bits);
  return Math.abs(got - ref) <= ulp + 8 * scale * 2 ** -24;
}

module.exports = { referenceMerge, referenceTies, toDtype, withinTolerance, layerT, gradient };
