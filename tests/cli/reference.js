'use strict';
// The f64 reference of SPEC §2 for the methods the CLI tests use, element by element.
//   linear:          Σ w_k m_k / Σ w_k (normalize) or Σ w_k m_k
//   task_arithmetic: b + λ Σ w_k (m_k − b) / (normalize ? Σ w_k : 1)
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

// |got − ref| within one unit in the last place of dtype plus f32 rounding of the inputs.
function withinTolerance(dtype, got, ref, scale) {
  const bits = { BF16: 8, F16: 11, F32: 24 }[dtype];
  const minNormal = dtype === 'F16' ? 2 ** -14 : 2 ** -126;
  const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(ref), minNormal))) + 1 - bits);
  return Math.abs(got - ref) <= ulp + 8 * scale * 2 ** -24;
}

module.exports = { referenceMerge, withinTolerance, layerT };
