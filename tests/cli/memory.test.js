'use strict';
// A folder model of a few hundred MB merges with bounded memory: the peak resident size
// of the wasm CLI stays far below the bytes it reads, and a sample of the output matches
// the f64 reference.
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { test, assert, scratchDir, ROOT } = require('./harness');
const { readSafetensors, bf16Value } = require('../../scripts/lib/st_io');
const { randomBf16, writeBf16Folder } = require('../../scripts/lib/model_sets');

const ROWS = 4096;
const COLS = 4096;
const LAYERS = 6;  // 6 × 16.8M bf16 = 201 MB per model

// Runs the command and samples VmHWM (the kernel's peak RSS) until it exits.
function runMeasuringPeak(cmd, args, cwd) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let peakKb = 0;
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch { /* exited */ }
    }, 20);
    child.on('close', (status) => {
      clearInterval(timer);
      resolve({ status, stderr, peakMb: peakKb / 1024 });
    });
  });
}

test('a 600 MB set of folder models merges in bounded memory (peak RSS well below the inputs)', async () => {
  const dir = scratchDir('memory');
  try {
    const names = Array.from({ length: LAYERS }, (_, i) => `model.layers.${i}.mlp.up_proj.weight`);
    const models = ['base', 'a', 'b'].map((m, k) => names.map((n, i) => [n, randomBf16(ROWS * COLS, k * 100 + i)]));
    ['base', 'a', 'b'].forEach((m, k) => writeBf16Folder(path.join(dir, m), models[k], [ROWS, COLS]));
    fs.writeFileSync(path.join(dir, 'merge.yaml'), `merge_method: task_arithmetic
base_model: base
models:
  - {model: a, parameters: {weight: 0.5}}
  - {model: b, parameters: {weight: 0.25}}
`);
    const started = Date.now();
    const r = await runMeasuringPeak(path.join(ROOT, 'scripts/wasmerge'), ['merge.yaml', 'out', '--memory-mb', '64'], dir);
    assert.strictEqual(r.status, 0, r.stderr);
    console.log(`     merged in ${((Date.now() - started) / 1000).toFixed(1)} s, peak RSS ${r.peakMb.toFixed(0)} MB ` +
      'for 604 MB of inputs, 201 MB of output');
    assert.ok(r.peakMb > 0, 'no RSS sample');
    assert.ok(r.peakMb < 300, `peak RSS ${r.peakMb.toFixed(0)} MB`);
    // Spot-check a sample of elements against the reference.
    const out = readSafetensors(path.join(dir, 'out/model.safetensors')).tensors;
    for (let t = 0; t < LAYERS; t += 5) {
      const got = out.get(names[t]).bytes;
      for (let i = 0; i < ROWS * COLS; i += 9973) {
        const [b, a, c] = models.map((m) => bf16Value(m[t][1].readUInt16LE(2 * i)));
        const ref = b + 0.5 * (a - b) + 0.25 * (c - b);
        const value = bf16Value(got.readUInt16LE(2 * i));
        assert.ok(Math.abs(value - ref) <= Math.abs(ref) * 2 ** -8 + 1e-6, `${names[t]}[${i}]: ${value} vs ${ref}`);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
