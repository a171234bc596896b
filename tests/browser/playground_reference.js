'use strict';
// Independent computations the playground's tests check the page against, in f64 from
// the model files (scripts/lib/st_io.js), following SPEC §2 rather than the engine's code:
// TIES's steps on a window of one tensor, and the share of sign conflicts between models.
const { readSafetensors } = require('../../scripts/lib/st_io');

// δ_k = f32(m_k) − f32(b), rounded to f32 as the engine computes it.
function taskVectors(baseFile, modelFiles, tensor) {
  const base = readSafetensors(baseFile).tensors.get(tensor).values;
  return modelFiles.map((f) => readSafetensors(f).tensors.get(tensor).values.map((v, i) => Math.fround(v - base[i])));
}

// TIES trim (keep the floor(d·n) largest |δ|, the lower index first at equal |δ|), sign
// election over Σ w·δ_kept, agreement, and the disjoint merge's support, counted over the
// flat indices `at`. -> {kept: [K], plus, minus (elected where something was kept),
// agree: [K], mixedNonZero}
function tiesWindow(deltas, weights, density, at) {
  const n = deltas[0].length;
  const k = Math.floor(density * n);
  const kept = deltas.map((d) => {
    const order = [...d.keys()].sort((a, b) => Math.abs(d[b]) - Math.abs(d[a]) || a - b);
    const keep = new Float64Array(n);
    for (const i of order.slice(0, k)) keep[i] = d[i];
    return keep;
  });
  const out = { kept: kept.map(() => 0), plus: 0, minus: 0, agree: kept.map(() => 0), mixedNonZero: 0 };
  for (const i of at) {
    let sum = 0;
    kept.forEach((kd, m) => { sum += weights[m] * kd[i]; if (kd[i] !== 0) out.kept[m]++; });
    const sign = sum >= 0 ? 1 : -1;
    if (kept.some((kd) => kd[i] !== 0)) {
      if (sign > 0) out.plus++;
      else out.minus++;
    }
    let any = false;
    kept.forEach((kd, m) => {
      if (Math.sign(weights[m] * kd[i]) === sign) { out.agree[m]++; any = true; }
    });
    if (any) out.mixedNonZero++;
  }
  return out;
}

// Over every tensor of the base: the share of elements where two models' non-zero δ have
// opposite signs (element-weighted).
function signConflictShare(baseFile, modelFiles) {
  const base = readSafetensors(baseFile);
  const models = modelFiles.map((f) => readSafetensors(f));
  let conflicts = 0;
  let elements = 0;
  for (const [name, t] of base.tensors) {
    const b = t.values;
    const ms = models.map((m) => m.tensors.get(name).values);
    for (let i = 0; i < b.length; i++) {
      let pos = false;
      let neg = false;
      for (const m of ms) {
        const d = Math.fround(m[i] - b[i]);
        pos = pos || d > 0;
        neg = neg || d < 0;
      }
      if (pos && neg) conflicts++;
    }
    elements += b.length;
  }
  return conflicts / elements;
}

module.exports = { taskVectors, tiesWindow, signConflictShare };
