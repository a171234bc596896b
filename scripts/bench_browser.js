#!/usr/bin/env node
'use strict';
// Times a merge in the page, as a user runs it: a ~500M-parameter bf16 model shaped like
// Qwen2.5-0.5B (generated: a base and three fine-tunes, ~1 GB each) merged with TIES in
// headless Chromium, the engine's default memory budget (1024 MB). --size 1.5b: shaped
// like Qwen2.5-1.5B instead (1.54B parameters, ~3.1 GB per model).
//   node scripts/bench_browser.js [--size 0.5b|1.5b] [--dir DIR] [--method ties|task_arithmetic|dare_ties] [--compare]
// --compare also downloads the result and checks it against scripts/wasmerge's bytes.
//   node scripts/bench_browser.js --eval
// instead times an evaluation in the page (SPEC §9): scripts/bench.js's 0.5B-shaped qwen2
// model on its 1,024-token text (BENCH_EVAL=1, which generates both once and times the CLI,
// wasm and native, first), with the page's numbers checked against the CLI's.
// Not part of scripts/test.sh: it writes ~4 GB (kept in DIR for the next run) and takes minutes.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { openApp, pickFiles, pickFolder, setConfig, mergeAndWait, statusText, downloadFile } = require('../tests/browser/browser');

const ROOT = path.resolve(__dirname, '..');
// Qwen2.5's shapes (no biases): 0.5B (the default) or 1.5B (--size 1.5b).
const SIZES = {
  '0.5b': { hidden: 896, kv: 128, ffn: 4864, layers: 24, dir: '/tmp/wasmerge-bench-500m' },
  '1.5b': { hidden: 1536, kv: 256, ffn: 8960, layers: 28, dir: '/tmp/wasmerge-bench-1.5b' },
};
const argv = process.argv.slice(2);
const flag = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const SIZE = SIZES[flag('--size', '0.5b')];
if (!SIZE) throw new Error(`--size: one of ${Object.keys(SIZES).join(', ')}`);
const { hidden: HIDDEN, kv: KV, ffn: FFN, layers: LAYERS } = SIZE;
const VOCAB = 151936;

const SHAPES = [
  ['model.embed_tokens.weight', [VOCAB, HIDDEN]],
  ...Array.from({ length: LAYERS }, (_, i) => [
    [`model.layers.${i}.input_layernorm.weight`, [HIDDEN]],
    [`model.layers.${i}.self_attn.q_proj.weight`, [HIDDEN, HIDDEN]],
    [`model.layers.${i}.self_attn.k_proj.weight`, [KV, HIDDEN]],
    [`model.layers.${i}.self_attn.v_proj.weight`, [KV, HIDDEN]],
    [`model.layers.${i}.self_attn.o_proj.weight`, [HIDDEN, HIDDEN]],
    [`model.layers.${i}.post_attention_layernorm.weight`, [HIDDEN]],
    [`model.layers.${i}.mlp.gate_proj.weight`, [FFN, HIDDEN]],
    [`model.layers.${i}.mlp.up_proj.weight`, [FFN, HIDDEN]],
    [`model.layers.${i}.mlp.down_proj.weight`, [HIDDEN, FFN]],
  ]).flat(),
  ['model.norm.weight', [HIDDEN]],
];
const numel = (shape) => shape.reduce((a, b) => a * b, 1);
const PARAMS = SHAPES.reduce((sum, [, s]) => sum + numel(s), 0);
const FILES = ['base.safetensors', 'ft1.safetensors', 'ft2.safetensors', 'ft3.safetensors'];

function args() {
  return { dir: path.resolve(flag('--dir', SIZE.dir)), method: flag('--method', 'ties'), compare: argv.includes('--compare'),
    eval: argv.includes('--eval') };
}

function headerBytes() {
  const header = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, shape] of SHAPES) {
    const n = numel(shape) * 2;
    header[name] = { dtype: 'BF16', shape, data_offsets: [offset, offset + n] };
    offset += n;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return { bytes: Buffer.concat([len, Buffer.from(json)]), dataBytes: offset };
}

// Random bf16 weights with |x| in [2^-8, 2) (no inf/NaN); a fine-tune flips the low
// mantissa bits of about a third of them (a few percent, either way).
function generate(dir) {
  const { bytes: header, dataBytes } = headerBytes();
  const expected = header.length + dataBytes;
  if (FILES.every((f) => fs.existsSync(path.join(dir, f)) && fs.statSync(path.join(dir, f)).size === expected)) return;
  fs.mkdirSync(dir, { recursive: true });
  console.log(`generating ${FILES.length} × ${(expected / 1e9).toFixed(2)} GB in ${dir} …`);
  const fds = FILES.map((f) => fs.openSync(path.join(dir, f), 'w'));
  fds.forEach((fd) => fs.writeSync(fd, header));
  for (const [, shape] of SHAPES) {
    const n = numel(shape);
    const base = Buffer.alloc(2 * n);
    crypto.randomFillSync(base);
    const h = new Uint16Array(base.buffer, base.byteOffset, n);
    for (let i = 0; i < n; i++) h[i] = (h[i] & 0x807f) | ((119 + (h[i] & 7)) << 7);
    fs.writeSync(fds[0], base);
    const noise = Buffer.alloc(2 * n);
    for (let k = 1; k < FILES.length; k++) {
      crypto.randomFillSync(noise);
      const r = new Uint16Array(noise.buffer, noise.byteOffset, n);
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = (r[i] & 0xc000) === 0 ? h[i] ^ (r[i] & 0x1f) : h[i];
      fs.writeSync(fds[k], Buffer.from(out.buffer));
    }
  }
  fds.forEach((fd) => fs.closeSync(fd));
}

function config(method) {
  const density = method === 'task_arithmetic' ? '' : ', density: 0.5';
  return `merge_method: ${method}
base_model: base.safetensors
models:
  - {model: ft1.safetensors, parameters: {weight: 1.0${density}}}
  - {model: ft2.safetensors, parameters: {weight: 0.8${density}}}
  - {model: ft3.safetensors, parameters: {weight: 0.6${density}}}
parameters: {lambda: 1.0}
`;
}

function sha256(file) {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buffer = Buffer.alloc(16 << 20);
  for (let n; (n = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0;) hash.update(buffer.subarray(0, n));
  fs.closeSync(fd);
  return hash.digest('hex');
}

// Peak resident memory of Chromium's renderer processes (the page and its workers).
function sampleRendererRss(peak) {
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak.set(pid, Math.max(peak.get(pid) || 0, Number(m[1]) * 1024));
    } catch { /* gone */ }
  }
}

async function main() {
  const opts = args();
  generate(opts.dir);
  const yaml = config(opts.method);
  const inputBytes = FILES.reduce((s, f) => s + fs.statSync(path.join(opts.dir, f)).size, 0);
  console.log(`${(PARAMS / 1e6).toFixed(0)}M parameters, bf16; ${opts.method} of base + 3 fine-tunes; ` +
    `${(inputBytes / 1e9).toFixed(2)} GB read`);

  const app = await openApp();
  const peak = new Map();
  const sampler = setInterval(() => sampleRendererRss(peak), 200);
  const ticker = setInterval(async () => {  // a line now and then, so a stall shows
    const stats = await app.page.textContent('#progress-stats').catch(() => '');
    console.log(`  … ${stats}`);
  }, 10000);
  let result;
  try {
    const { page } = app;
    await page.waitForFunction(() => document.body.dataset.mergeState === 'idle');
    await pickFiles(page, FILES.map((f) => path.join(opts.dir, f)));
    await setConfig(page, yaml);
    const started = Date.now();
    const state = await mergeAndWait(page, { timeout: 30 * 60 * 1000 });
    const wall = (Date.now() - started) / 1000;
    if (state !== 'done') throw new Error(`merge ${state}: ${await statusText(page)}`);
    const run = await page.evaluate(() => self.wasmergeLastRun());
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    result = { wall, engineSeconds: run.seconds, heapMb: run.heapBytes / 2 ** 20, outBytes: run.outcome.tensor_bytes, cores };
    console.log(`page: ${wall.toFixed(1)} s from Merge to the download link (${run.seconds.toFixed(1)} s in the worker), ` +
      `${(inputBytes / 1e9 / run.seconds).toFixed(2)} GB/s of input, ${(run.outcome.tensor_bytes / 1e9).toFixed(2)} GB written, ` +
      `${cores} threads, wasm heap ${result.heapMb.toFixed(0)} MiB (budget 1024 MB + 96 MiB), ` +
      `peak renderer RSS ${(Math.max(0, ...peak.values()) / 2 ** 20).toFixed(0)} MiB`);
    const io = run.io;
    console.log(`worker I/O: ${io.reads} reads, ${(io.readBytes / 1e9).toFixed(2)} GB in ${io.readSeconds.toFixed(1)} s; ` +
      `${io.writes} writes, ${(io.writeBytes / 1e9).toFixed(2)} GB in ${io.writeSeconds.toFixed(1)} s`);
    console.log(`status: ${await statusText(page)}`);
    if (opts.compare) {
      const got = await downloadFile(page);
      const out = path.join(opts.dir, 'cli-out');
      fs.writeFileSync(path.join(opts.dir, 'merge.yaml'), yaml);
      const t = Date.now();
      const r = spawnSync(path.join(ROOT, 'scripts/wasmerge'), ['merge.yaml', out], { cwd: opts.dir, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      const same = sha256(got.path) === sha256(path.join(out, 'model.safetensors'));  // files over 2 GiB too
      console.log(`cli (wasm under node): ${((Date.now() - t) / 1000).toFixed(1)} s; page bytes ${same ? 'equal' : 'DIFFER from'} the CLI's`);
      if (!same) process.exitCode = 1;
    }
  } finally {
    clearInterval(sampler);
    clearInterval(ticker);
    if (process.exitCode || !result) console.log(app.consoleLines.slice(-20).join('\n'));
    await app.close();
  }
  return result;
}

// The page's evaluation of scripts/bench.js's eval model and text, after the CLI's (bench.js
// prints wasm and native seconds and tokens/s; here the page's, from Evaluate to the table,
// and the engine's part as the page's progress times it).
async function benchEval() {
  const dir = path.join(process.env.BENCH_DIR || path.join(ROOT, 'build/bench'), 'upcycle');
  const cli = spawnSync('node', [path.join(ROOT, 'scripts/bench.js')], { env: { ...process.env, BENCH_EVAL: '1' }, stdio: 'inherit' });
  if (cli.status !== 0) throw new Error('scripts/bench.js (BENCH_EVAL=1) failed');
  const text = fs.readFileSync(path.join(dir, 'eval.txt'), 'utf8');
  const [want] = JSON.parse(fs.readFileSync(path.join(dir, 'eval-wasm.json'), 'utf8'));
  const app = await openApp();
  const peak = new Map();
  const sampler = setInterval(() => sampleRendererRss(peak), 200);
  const ticker = setInterval(async () => {
    const line = await app.page.textContent('[data-testid=eval-progress]').catch(() => '');
    console.log(`  … ${line.trim()}`);
  }, 10000);
  try {
    const { page } = app;
    await page.waitForFunction(() => document.body.dataset.mergeState === 'idle');
    await pickFolder(page, path.join(dir, 'qwen2'));
    await page.fill('[data-testid=eval-text]', text);
    const started = Date.now();
    await page.click('[data-testid=eval-run]');
    await page.waitForFunction(() => ['done', 'failed', 'cancelled'].includes(document.body.dataset.evalState), null, { timeout: 30 * 60 * 1000 });
    const wall = (Date.now() - started) / 1000;
    const status = (await page.textContent('[data-testid=eval-status]')).trim();
    if (await page.evaluate(() => document.body.dataset.evalState) !== 'done') throw new Error(`evaluation: ${status}`);
    const { rows } = await page.evaluate(() => self.wasmergeLastEval());
    const [got] = rows;
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    console.log(`page: ${wall.toFixed(1)} s from Evaluate to the table (tokenizing and the engine's start included), ` +
      `${got.seconds.toFixed(1)} s in the engine: ${(got.tokens / got.seconds).toFixed(1)} tokens/s, ${cores} threads, ` +
      `peak renderer RSS ${(Math.max(0, ...peak.values()) / 2 ** 20).toFixed(0)} MiB`);
    const same = ['tokens', 'nll', 'perplexity', 'bits_per_byte'].every((k) => got[k] === want[k]);
    console.log(`page numbers ${same ? 'equal' : 'DIFFER from'} the CLI's (nll ${got.nll}, CLI ${want.nll})`);
    if (!same) process.exitCode = 1;
  } finally {
    clearInterval(sampler);
    clearInterval(ticker);
    if (process.exitCode) console.log(app.consoleLines.slice(-20).join('\n'));
    await app.close();
  }
}

(args().eval ? benchEval() : main()).catch((e) => {
  console.error(`bench_browser: ${e.message}`);
  process.exit(1);
});
