'use strict';
// The page's "Extract a LoRA" mode ([data-testid=extract-mode]): the base and fine-tune
// picked among the picked models, the rank (16 unless changed) and the options; the run
// (the page's Merge button, which reads "Extract" in this mode) shows progress per matrix
// and downloads the adapter folder as a zip holding the bytes `scripts/wasmerge
// extract-lora` writes for the same models and options.
const fs = require('fs');
const path = require('path');
const { test, assert, scratchDir, wasmerge } = require('../cli/harness');
const { baseValues, fineTune, writeModel } = require('../../scripts/lib/model_sets');
const { pickFiles, mergeAndWait, statusText, download } = require('./browser');
const { withApp } = require('./app_session');
const { readZip } = require('./zip_reader');

const ADAPTER = ['adapter_config.json', 'adapter_model.safetensors'];

function family(label) {
  const dir = scratchDir(label);
  const base = baseValues(1, 'F32');
  writeModel(dir, 'base', base, 'F32');
  writeModel(dir, 'ft', fineTune(base, 2, 'F32'), 'F32');
  return dir;
}

// Extracts in the page, with fill(page) setting the fields after the mode is picked;
// -> {zip (file name -> bytes), name (the download's), base, model (the picked names),
//     tensors (the per-tensor progress lines seen), state}
async function extractInPage(dir, fill) {
  let out;
  await withApp(async ({ page, consoleLines }) => {
    await pickFiles(page, [path.join(dir, 'ft.safetensors'), path.join(dir, 'base.safetensors')]);
    await page.check('[data-testid=extract-mode]');
    assert.strictEqual(await page.isVisible('[data-testid=extract-fields]'), true);
    assert.strictEqual(await page.isVisible('[data-testid=method]'), false, 'no merge method in this mode');
    assert.strictEqual(await page.isVisible('[data-testid=config]'), false, 'no YAML in this mode');
    assert.strictEqual((await page.textContent('[data-testid=merge]')).trim(), 'Extract');
    // The one called base is the base, whatever the pick order; the other the fine-tune.
    const base = await page.inputValue('[data-testid=extract-base]');
    const model = await page.inputValue('[data-testid=extract-model]');
    assert.match(base, /^base/);
    assert.match(model, /^ft/);
    assert.strictEqual(await page.inputValue('[data-testid=extract-rank]'), '16');
    await fill(page);
    await page.evaluate(() => {
      self.tensorLines = [];
      const line = document.getElementById('progress-tensor');
      new MutationObserver(() => self.tensorLines.push(line.textContent)).observe(line, { childList: true, characterData: true, subtree: true });
    });
    const state = await mergeAndWait(page);
    assert.strictEqual(state, 'done', await statusText(page));
    assert.match(await statusText(page), /^Extracted the adapter/);
    const tensors = await page.evaluate(() => self.tensorLines.filter(Boolean));
    const { name, bytes } = await download(page);
    assert.deepStrictEqual(consoleLines.filter((l) => /^(pageerror|error):/.test(l)), [], 'no error in the page');
    out = { zip: readZip(bytes), name, base, model, tensors };
  });
  return out;
}

function assertSameAdapter(dir, zip, args) {
  const r = wasmerge(['extract-lora', ...args, 'cli-out'], { cwd: dir });
  assert.strictEqual(r.status, 0, r.stderr);
  const cli = path.join(dir, 'cli-out');
  assert.deepStrictEqual(fs.readdirSync(cli).sort(), ADAPTER);
  assert.deepStrictEqual([...zip.keys()].sort(), ADAPTER);
  for (const f of ADAPTER) assert.ok(zip.get(f).equals(fs.readFileSync(path.join(cli, f))), `${f} differs from the CLI's`);
}

test('page: extract a LoRA downloads the adapter scripts/wasmerge extract-lora writes (rank 8), with progress per matrix', async () => {
  const dir = family('browser-extract');
  const { zip, name, base, model, tensors } = await extractInPage(dir, async (page) => {
    await page.fill('[data-testid=extract-rank]', '8');
  });
  assert.strictEqual(name, 'lora-adapter.zip');
  assert.ok(tensors.some((t) => /^tensor \d+ of \d+: /.test(t)), `progress lines: ${tensors.join(' | ')}`);
  assertSameAdapter(dir, zip, ['--base', base, '--model', model, '--rank', '8']);
  assert.strictEqual(JSON.parse(zip.get('adapter_config.json')).r, 8);
});

test('page: extract a LoRA with sv_epsilon, no distributed scale and embeddings as LoRA gives the CLI\'s bytes', async () => {
  const dir = family('browser-extract-options');
  const { zip, base, model } = await extractInPage(dir, async (page) => {
    await page.fill('[data-testid=extract-rank]', '6');
    await page.fill('[data-testid=extract-sv-epsilon]', '1e-3');
    await page.uncheck('[data-testid=extract-distribute-scale]');
    await page.check('[data-testid=extract-embed-lora]');
  });
  assertSameAdapter(dir, zip, ['--base', base, '--model', model, '--rank', '6', '--sv-epsilon', '1e-3',
    '--no-distribute-scale', '--embed-lora']);
});
