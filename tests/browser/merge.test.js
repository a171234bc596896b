'use strict';
// Merges in the page give the same bytes as scripts/wasmerge on the same config: files
// picked through [data-testid=files] (and folders through [data-testid=folders]), the
// YAML typed into [data-testid=config], the result taken from [data-testid=download].
const fs = require('fs');
const path = require('path');
const { test, assert, scratchDir, wasmerge } = require('../cli/harness');
const { baseValues, fineTune, writeModel } = require('../../scripts/lib/model_sets');
const { pickFiles, pickFolder, setConfig, mergeAndWait, statusText, download } = require('./browser');
const { withApp } = require('./app_session');
const { readZip } = require('./zip_reader');

// base + three fine-tunes as single files, in dtype.
function fileFamily(dtype) {
  const dir = scratchDir('browser');
  const base = baseValues(1, dtype);
  writeModel(dir, 'base', base, dtype);
  [2, 3, 4].forEach((seed, k) => writeModel(dir, `ft${k}`, fineTune(base, seed, dtype), dtype));
  return dir;
}

// scripts/wasmerge on the same YAML, next to the same files; -> its output folder.
function cliMerge(dir, yaml) {
  fs.writeFileSync(path.join(dir, 'merge.yaml'), yaml);
  const r = wasmerge(['merge.yaml', 'cli-out'], { cwd: dir });
  assert.strictEqual(r.status, 0, r.stderr);
  return path.join(dir, 'cli-out');
}

async function mergeFilesInPage(dir, files, yaml) {
  let result;
  await withApp(async ({ page }) => {
    await pickFiles(page, files.map((f) => path.join(dir, f)));
    await setConfig(page, yaml);
    const state = await mergeAndWait(page);
    assert.strictEqual(state, 'done', await statusText(page));
    result = await download(page);
  });
  return result;
}

const FILES = ['base.safetensors', 'ft0.safetensors', 'ft1.safetensors', 'ft2.safetensors'];
const CASES = {
  task_arithmetic: { dtype: 'BF16', yaml: `merge_method: task_arithmetic
base_model: base.safetensors
models:
  - model: ft0.safetensors
    parameters: {weight: [1.0, 0.2]}
  - model: ft1.safetensors
    parameters: {weight: -0.3}
parameters: {lambda: 0.8}
` },
  linear: { dtype: 'F16', yaml: `merge_method: linear
out_dtype: float32
models:
  - {model: ft0.safetensors, parameters: {weight: 1}}
  - {model: ft1.safetensors, parameters: {weight: 2}}
  - {model: ft2.safetensors, parameters: {weight: [{filter: mlp, value: 5}, {value: 1}]}}
` },
  ties: { dtype: 'BF16', yaml: `merge_method: ties
base_model: base.safetensors
models:
  - model: ft0.safetensors
    parameters: {weight: 1.0, density: 0.5}
  - model: ft1.safetensors
    parameters: {weight: 0.7, density: 0.3}
  - model: ft2.safetensors
    parameters: {weight: [0.2, 1.0], density: 0.8}
parameters: {lambda: 1.2}
dtype: bfloat16
` },
  dare_ties: { dtype: 'F32', yaml: `merge_method: dare_ties
base_model: base.safetensors
models:
  - model: ft0.safetensors
    parameters: {weight: 1.0, density: 0.6}
  - model: ft1.safetensors
    parameters: {weight: 0.5, density: 0.4}
random_seed: 1234
` },
  // A base and exactly one other model; t is global and required.
  slerp: { dtype: 'BF16', yaml: `merge_method: slerp
base_model: base.safetensors
models:
  - model: ft1.safetensors
parameters: {t: 0.3}
` },
};

for (const [method, { dtype, yaml }] of Object.entries(CASES)) {
  test(`page: ${method} of picked ${dtype} files downloads the bytes scripts/wasmerge writes`, async () => {
    const dir = fileFamily(dtype);
    const expected = fs.readFileSync(path.join(cliMerge(dir, yaml), 'model.safetensors'));
    const got = await mergeFilesInPage(dir, FILES, yaml);
    assert.strictEqual(got.name, 'model.safetensors');
    assert.ok(got.bytes.equals(expected), `downloaded ${got.bytes.length} bytes differ from the CLI's ${expected.length}`);
  });
}

test('page: folder inputs (a sharded folder among them) download as a zip of the CLI\'s output folder', async () => {
  const dir = scratchDir('browser-folders');
  const base = baseValues(1, 'BF16');
  writeModel(dir, 'base', base, 'BF16', { folder: true });
  writeModel(dir, 'a', fineTune(base, 2, 'BF16'), 'BF16', { folder: true, shards: 3 });
  writeModel(dir, 'b', fineTune(base, 3, 'BF16'), 'BF16');
  const yaml = `merge_method: ties
base_model: ./base
models:
  - model: ./a
    parameters: {weight: 1.0, density: 0.5}
  - model: ./b.safetensors
    parameters: {weight: 0.5, density: 0.7}
`;
  const cliOut = cliMerge(dir, yaml);
  let zip;
  await withApp(async ({ page }) => {
    await pickFolder(page, path.join(dir, 'base'));
    await pickFolder(page, path.join(dir, 'a'));
    await pickFiles(page, [path.join(dir, 'b.safetensors')]);
    await setConfig(page, yaml);
    assert.strictEqual(await mergeAndWait(page), 'done', await statusText(page));
    zip = await download(page);
  });
  assert.strictEqual(zip.name, 'merged-model.zip');
  const files = readZip(zip.bytes);
  const expected = fs.readdirSync(cliOut).sort();
  assert.deepStrictEqual([...files.keys()].sort(), expected);
  assert.ok(expected.includes('config.json') && expected.includes('tokenizer.json'), expected.join(', '));
  for (const f of expected) assert.ok(files.get(f).equals(fs.readFileSync(path.join(cliOut, f))), `${f} differs`);
});

test('page: a folder holding several models answers to the paths inside it', async () => {
  const dir = scratchDir('browser-parent');
  const models = path.join(dir, 'models');
  fs.mkdirSync(models);
  const base = baseValues(5, 'BF16');
  writeModel(models, 'base', base, 'BF16', { folder: true });
  writeModel(models, 'math', fineTune(base, 6, 'BF16'), 'BF16', { folder: true });
  const yaml = `merge_method: task_arithmetic
base_model: base
models:
  - model: math
    parameters: {weight: 0.5}
`;
  const cliOut = cliMerge(models, yaml);
  await withApp(async ({ page }) => {
    await pickFolder(page, models);
    await setConfig(page, yaml);
    assert.strictEqual(await mergeAndWait(page), 'done', await statusText(page));
    const files = readZip((await download(page)).bytes);
    assert.ok(files.get('model.safetensors').equals(fs.readFileSync(path.join(cliOut, 'model.safetensors'))));
  });
});
