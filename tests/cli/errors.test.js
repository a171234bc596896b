'use strict';
// Failures through the CLI: exit status, one `error:` line naming the file and tensor,
// and no .safetensors left in OUT_DIR.
const fs = require('fs');
const path = require('path');
const { test, assert, scratchDir, wasmerge, safetensorsIn } = require('./harness');
const { writeSafetensors } = require('../../scripts/lib/st_io');
const { baseValues, fineTune, writeModel } = require('../../scripts/lib/model_sets');

function family(dir) {
  const base = baseValues(1, 'BF16');
  writeModel(dir, 'base', base, 'BF16');
  writeModel(dir, 'a', fineTune(base, 2, 'BF16'), 'BF16');
  return base;
}

const CONFIG = `merge_method: task_arithmetic
base_model: base.safetensors
models:
  - {model: a.safetensors, parameters: {weight: 1}}
  - {model: b.safetensors, parameters: {weight: 1}}
`;

function expectFailure(dir, args, pattern, engines = [[], ['--native']]) {
  for (const extra of engines) {
    const r = wasmerge([...args, ...extra], { cwd: dir });
    assert.strictEqual(r.status, 1, `exit status ${r.status}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.strictEqual(lines.length, 1, `one line expected:\n${r.stderr}`);
    assert.match(lines[0], pattern);
    assert.deepStrictEqual(safetensorsIn(path.join(dir, args[1])), [], 'no .safetensors left');
    assert.ok(!fs.existsSync(path.join(dir, args[1])) || fs.readdirSync(path.join(dir, args[1])).length === 0,
      'nothing left in OUT_DIR');
  }
}

test('a model path that does not exist', () => {
  const dir = scratchDir('missing');
  family(dir);
  fs.writeFileSync(path.join(dir, 'merge.yaml'), CONFIG);
  expectFailure(dir, ['merge.yaml', 'out'], /^error: b\.safetensors: not found/);
});

test('a malformed header names the file and tensor', () => {
  const dir = scratchDir('malformed');
  family(dir);
  const header = JSON.stringify({ 'lm_head.weight': { dtype: 'BF16', shape: [4], data_offsets: [0, 9] } });
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  fs.writeFileSync(path.join(dir, 'b.safetensors'), Buffer.concat([len, Buffer.from(header), Buffer.alloc(9)]));
  fs.writeFileSync(path.join(dir, 'merge.yaml'), CONFIG);
  expectFailure(dir, ['merge.yaml', 'out'],
    /^error: b\.safetensors: tensor 'lm_head\.weight': shape needs 8 bytes of BF16 but data_offsets \[0, 9\] hold 9$/);
});

test('a truncated download', () => {
  const dir = scratchDir('truncated');
  const base = family(dir);
  writeModel(dir, 'b', fineTune(base, 3, 'BF16'), 'BF16');
  const file = path.join(dir, 'b.safetensors');
  fs.truncateSync(file, fs.statSync(file).size - 1000);
  fs.writeFileSync(path.join(dir, 'merge.yaml'), CONFIG);
  expectFailure(dir, ['merge.yaml', 'out'], /^error: b\.safetensors: tensor '.*': data_offsets \[\d+, \d+\] beyond the \d+-byte buffer$/);
});

test('a shape mismatch names both models and both shapes', () => {
  const dir = scratchDir('shape');
  family(dir);
  const base = baseValues(1, 'BF16');
  const tensors = [...base].map(([name, values]) => ({ name, dtype: 'BF16', shape: [values.length], values }));
  writeSafetensors(path.join(dir, 'b.safetensors'), tensors);
  fs.writeFileSync(path.join(dir, 'merge.yaml'), CONFIG);
  expectFailure(dir, ['merge.yaml', 'out'],
    /^error: b\.safetensors: tensor 'model\.embed_tokens\.weight': shape \[208\] differs from \[13, 16\] in base\.safetensors$/);
});

test('a config with an unknown key, an unknown method, a missing weight', () => {
  const dir = scratchDir('config');
  family(dir);
  writeModel(dir, 'b', baseValues(3, 'BF16'), 'BF16');
  const cases = [
    [CONFIG + 'lamda: 2\n', /^error: config: unknown key 'lamda'$/],
    [CONFIG.replace('task_arithmetic', 'tiez'), /^error: config: unknown merge_method 'tiez'/],
    [CONFIG.replace('{weight: 1}}\n  - {model: b', '{}}\n  - {model: b'), /^error: config: model 'a.safetensors': parameter 'weight' is required by task_arithmetic$/],
    [CONFIG.replace('merge_method: task_arithmetic', 'merge_method: slerp'), /^error: config: slerp takes exactly 1 model besides base_model, not 2$/],
    [CONFIG.replace('merge_method: task_arithmetic', 'merge_method: nearswap').replace('\n  - {model: b.safetensors, parameters: {weight: 1}}', ''),
      /^error: config: parameter 't' is required by nearswap \(under parameters:\)$/],
  ];
  for (const [text, pattern] of cases) {
    fs.writeFileSync(path.join(dir, 'merge.yaml'), text);
    expectFailure(dir, ['merge.yaml', 'out'], pattern);
  }
});

test('YAML that does not parse, and a config file that does not exist', () => {
  const dir = scratchDir('yaml');
  fs.writeFileSync(path.join(dir, 'merge.yaml'), 'merge_method: [linear\n');
  expectFailure(dir, ['merge.yaml', 'out'], /^error: merge\.yaml: not valid YAML/, [[]]);
  expectFailure(dir, ['nope.yaml', 'out'], /^error: nope\.yaml: cannot read the config \(ENOENT\)$/, [[]]);
});

test('bad command lines get the usage and exit 2', () => {
  const dir = scratchDir('usage');
  for (const args of [[], ['only-one'], ['a', 'b', '--threads', 'x'], ['a', 'b', '--bogus'], ['a', 'b', '--out-shard-size', 'huge']]) {
    const r = wasmerge(args, { cwd: dir });
    assert.strictEqual(r.status, 2, args.join(' '));
    assert.match(r.stderr, /^error: .*\nusage: wasmerge CONFIG OUT_DIR/);
  }
  assert.strictEqual(wasmerge(['--help'], { cwd: dir }).status, 0);
});
