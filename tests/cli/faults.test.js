'use strict';
// Faults mid-merge through the CLI, on both engines: a full disk, SIGINT and SIGTERM,
// NaN in an input. Each ends with a clear message, a non-zero exit, no output left,
// and inputs byte for byte as they were.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { test, assert, scratchDir, wasmerge, ROOT } = require('./harness');
const { writeSafetensors } = require('../../scripts/lib/st_io');
const { baseValues, fineTune, writeModel, randomBf16, writeBf16Folder } = require('../../scripts/lib/model_sets');

const ENGINES = [[], ['--native']];

function hashes(files) {
  return files.map((f) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex'));
}

function smallFamily(dir) {
  const base = baseValues(1, 'BF16');
  const files = [writeModel(dir, 'base', base, 'BF16'), writeModel(dir, 'a', fineTune(base, 2, 'BF16'), 'BF16')];
  fs.writeFileSync(path.join(dir, 'merge.yaml'),
    'merge_method: task_arithmetic\nbase_model: base.safetensors\nmodels:\n  - {model: a.safetensors, parameters: {weight: 1}}\n');
  return files;
}

function assertNothingLeft(dir) {
  const left = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  assert.deepStrictEqual(left, [], `left in ${dir}: ${left.join(', ')}`);
}

test('a full disk: clear error, the partial output removed, inputs unchanged', () => {
  const dir = scratchDir('full');
  const inputs = smallFamily(dir);
  const before = hashes(inputs);
  for (const engine of ENGINES) {
    const out = path.join(dir, 'out');
    fs.mkdirSync(out, { recursive: true });
    fs.symlinkSync('/dev/full', path.join(out, 'model.safetensors.partial'));  // every write: ENOSPC
    const r = wasmerge(['merge.yaml', 'out', ...engine], { cwd: dir });
    assert.strictEqual(r.status, 1, r.stderr);
    assert.strictEqual(r.stderr.trim(), 'error: model.safetensors: write failed: the disk is full (ENOSPC)');
    assertNothingLeft(out);
  }
  assert.deepStrictEqual(hashes(inputs), before);
});

test('NaN in an input names the file, the tensor and the index', () => {
  const dir = scratchDir('nan');
  smallFamily(dir);
  const base = baseValues(1, 'BF16');
  const values = base.get('model.layers.2.mlp.up_proj.weight').slice();
  values[77] = NaN;
  const tuned = fineTune(base, 3, 'BF16');
  tuned.set('model.layers.2.mlp.up_proj.weight', values);
  writeModel(dir, 'a', tuned, 'BF16');
  for (const engine of ENGINES) {
    const r = wasmerge(['merge.yaml', 'out', ...engine], { cwd: dir });
    assert.strictEqual(r.status, 1, r.stderr);
    assert.strictEqual(r.stderr.trim(),
      "error: a.safetensors: tensor 'model.layers.2.mlp.up_proj.weight': NaN at index 77 (allow_nonfinite: true merges it anyway)");
    assertNothingLeft(path.join(dir, 'out'));
  }
  fs.appendFileSync(path.join(dir, 'merge.yaml'), 'allow_nonfinite: true\n');
  assert.strictEqual(wasmerge(['merge.yaml', 'out'], { cwd: dir }).status, 0);
});

// A merge long enough to interrupt: three 100 MB bf16 models.
function bigFamily(dir) {
  const names = [0, 1, 2].map((i) => `model.layers.${i}.mlp.up_proj.weight`);
  const files = ['base', 'a', 'b'].map((m, k) => {
    writeBf16Folder(path.join(dir, m), names.map((n, i) => [n, randomBf16(4096 * 4096, 1 + k * 10 + i)]), [4096, 4096]);
    return path.join(dir, m, 'model.safetensors');
  });
  fs.writeFileSync(path.join(dir, 'merge.yaml'), `merge_method: ties
base_model: base
models:
  - {model: a, parameters: {weight: 0.5, density: 0.3}}
  - {model: b, parameters: {weight: 0.5, density: 0.3}}
`);
  return files;
}

// Starts a merge, signals it once its partial output exists, resolves {status, stderr}.
function interrupt(dir, engine, signal) {
  return new Promise((resolve) => {
    const out = path.join(dir, 'out');
    const child = spawn(path.join(ROOT, 'scripts/wasmerge'), ['merge.yaml', 'out', '--threads', '1', ...engine],
      { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const poll = setInterval(() => {
      if (fs.existsSync(path.join(out, 'model.safetensors.partial'))) {
        clearInterval(poll);
        child.kill(signal);
      }
    }, 5);
    child.on('close', (status) => {
      clearInterval(poll);
      resolve({ status, stderr });
    });
  });
}

test('SIGINT and SIGTERM mid-merge: cancelled, exit 130, nothing left, inputs unchanged', async () => {
  const dir = scratchDir('signal');
  try {
    const inputs = bigFamily(dir);
    const before = hashes(inputs);
    for (const engine of ENGINES)
      for (const signal of ['SIGINT', 'SIGTERM']) {
        const r = await interrupt(dir, engine, signal);
        assert.strictEqual(r.status, 130, `${engine} ${signal}: ${r.stderr}`);
        assert.strictEqual(r.stderr.trim(), 'error: merge cancelled');
        assertNothingLeft(path.join(dir, 'out'));
      }
    assert.deepStrictEqual(hashes(inputs), before);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('twenty merges in one node process: each correct, no memory kept between them', async () => {
  const dir = scratchDir('twenty');
  smallFamily(dir);
  const r = spawn(process.execPath, ['--no-experimental-fetch', path.join(__dirname, 'repeat_merges.js'), dir, '20'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  r.stdout.on('data', (d) => { stdout += d; });
  r.stderr.on('data', (d) => { stderr += d; });
  const status = await new Promise((resolve) => r.on('close', resolve));
  assert.strictEqual(status, 0, stderr);
  const report = JSON.parse(stdout);
  assert.strictEqual(report.results.length, 20);
  assert.ok(report.results.every((x) => x.status === 0 && x.sha256 === report.results[0].sha256), stdout);
  assert.strictEqual(report.results[19].heapInUse, report.results[0].heapInUse, 'heap in use grew');
  const reference = crypto.createHash('sha256');
  assert.strictEqual(wasmerge(['merge.yaml', 'cli-out'], { cwd: dir }).status, 0);
  reference.update(fs.readFileSync(path.join(dir, 'cli-out/model.safetensors')));
  assert.strictEqual(report.results[0].sha256, reference.digest('hex'), 'the same bytes as the CLI');
});
