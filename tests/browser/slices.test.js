'use strict';
// Layer space in the page: a SOLAR-style depth up-scaling config typed into the YAML editor
// survives form edits, the page shows its layer map (before the merge from the plan, after
// it with the result), and the merge downloads the bytes scripts/wasmerge writes for the
// same config. And what the page lists about methods is the engine's catalogue.
const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');
const { test, assert, scratchDir, wasmerge } = require('../cli/harness');
const { LLAMA, layeredTensors, writeLayered } = require('../cli/layer_models');
const { pickFolder, setConfig, mergeAndWait, statusText, download } = require('./browser');
const { withApp } = require('./app_session');
const { readZip } = require('./zip_reader');
const { catalogue: engineCatalogue } = require('./catalogue');

const LAYERS = 6;
// [0, 4) + [2, 6) of one 6-layer model: 8 output layers, layers 2 and 3 twice.
const SLICES = [[0, 4], [2, 6]];
const DUS_YAML = `merge_method: passthrough
slices:
  - sources:
      - model: ./m
        layer_range: [${SLICES[0].join(', ')}]
  - sources:
      - model: ./m
        layer_range: [${SLICES[1].join(', ')}]
dtype: bfloat16
`;

// The layer map in words, from the slices alone: a running counter over the slices.
function expectedMap(slices, model) {
  let next = 0;
  return slices.map(([a, b]) => {
    const line = `output layers ${next}–${next + b - a - 1} ← ${model}: ${a}–${b - 1}`;
    next += b - a;
    return line;
  });
}

function cli(args, cwd) {
  const r = wasmerge(args, { cwd });
  assert.strictEqual(r.status, 0, r.stderr);
  return r.stdout;
}

const listItems = (page, testid) => page.$$eval(`[data-testid=${testid}] li`, (lis) => lis.map((li) => li.textContent));

test('page: a depth up-scaling slices config keeps its slices through form edits, shows its layer map, and downloads the CLI\'s bytes', async () => {
  const dir = scratchDir('browser-dus');
  writeLayered(dir, 'm', layeredTensors({ arch: LLAMA, layers: LAYERS, dtype: 'BF16', seed: 3 }),
    { config: { architectures: ['LlamaForCausalLM'], num_hidden_layers: LAYERS, torch_dtype: 'bfloat16' } });
  const map = expectedMap(SLICES, './m');
  let yamlAfterEdit, zip, plannedBytes;
  await withApp(async ({ page }) => {
    await pickFolder(page, path.join(dir, 'm'));
    await setConfig(page, DUS_YAML);
    await page.waitForFunction(() => document.querySelector('[data-testid=plan]').dataset.state === 'ready', null, { timeout: 20000 });
    assert.deepStrictEqual(await listItems(page, 'layer-map'), map, 'layer map before the merge');

    // The table cannot edit slices: it says which layers the model gives, and its roles are locked.
    assert.strictEqual(await page.isVisible('#slices-note'), true, 'the note on slices');
    assert.match(await page.textContent('tr[data-name="./m"]'), /layers 0–3, 2–5/);
    assert.strictEqual(await page.isDisabled('tr[data-name="./m"] [data-field=role]'), true);

    // A form edit rewrites the YAML from the parsed config: the slices must come through.
    await page.selectOption('#dtype', 'float32');
    yamlAfterEdit = await page.inputValue('[data-testid=config]');
    const parsed = yaml.load(yamlAfterEdit);
    assert.strictEqual(parsed.dtype, 'float32');
    assert.deepStrictEqual(parsed.slices, yaml.load(DUS_YAML).slices, `slices after a form edit:\n${yamlAfterEdit}`);
    assert.ok(!('models' in parsed), 'the form added models: to a slices config');
    await page.waitForFunction(() => document.querySelector('[data-testid=plan]').dataset.state === 'ready', null, { timeout: 20000 });
    plannedBytes = Number(await page.getAttribute('[data-testid=plan]', 'data-bytes'));

    assert.strictEqual(await mergeAndWait(page), 'done', await statusText(page));
    assert.deepStrictEqual(await listItems(page, 'result-layer-map'), map, 'layer map of the result');
    zip = await download(page);
  });

  fs.writeFileSync(path.join(dir, 'dus.yaml'), yamlAfterEdit);
  cli(['dus.yaml', 'cli-out'], dir);
  const expected = fs.readdirSync(path.join(dir, 'cli-out')).sort();
  assert.strictEqual(zip.name, 'merged-model.zip');
  const files = readZip(zip.bytes);
  assert.deepStrictEqual([...files.keys()].sort(), expected);
  for (const f of expected) assert.ok(files.get(f).equals(fs.readFileSync(path.join(dir, 'cli-out', f))), `${f} differs from the CLI's`);
  assert.strictEqual(JSON.parse(files.get('config.json')).num_hidden_layers, 8, 'config.json layer count');

  // The plan the page showed sized the weights as the CLI's dry run does.
  const dry = JSON.parse(cli(['--dry-run', 'dus.yaml', '--json'], dir));
  assert.strictEqual(plannedBytes, dry.files.reduce((n, f) => n + f.bytes, 0), 'planned bytes vs --dry-run');
});

test('page: a slice outside the model is the engine\'s error, shown before any merge', async () => {
  const dir = scratchDir('browser-slice-error');
  writeLayered(dir, 'm', layeredTensors({ arch: LLAMA, layers: LAYERS, dtype: 'BF16', seed: 4 }),
    { config: { num_hidden_layers: LAYERS } });
  await withApp(async ({ page }) => {
    await pickFolder(page, path.join(dir, 'm'));
    await setConfig(page, DUS_YAML.replace('[2, 6]', '[2, 9]'));
    await page.waitForFunction(() => document.querySelector('[data-testid=plan]').dataset.state === 'error', null, { timeout: 20000 });
    assert.match(await page.textContent('[data-testid=plan-summary]'), /\[2, 9\].*6 layers/);
    assert.strictEqual(await page.isVisible('[data-testid=layer-map]'), false, 'no layer map for a config that fails');
    assert.strictEqual(await mergeAndWait(page), 'failed');
    assert.match(await statusText(page), /6 layers/);
  });
});

test('page: the method lists (the form\'s and the playground\'s) are the engine\'s catalogue', async () => {
  const catalogue = engineCatalogue();
  assert.ok(catalogue.length >= 2 && catalogue.some((m) => m.models.max === 1), 'a catalogue worth checking');
  await withApp(async ({ page }) => {
    const shown = await page.$$eval('#method option', (os) => os.map((o) => [o.value, o.textContent]));
    assert.deepStrictEqual(shown, catalogue.map((m) => [m.name, m.title]));
    const selected = catalogue.find((m) => m.name === 'ties');
    assert.strictEqual(await page.inputValue('#method'), selected.name, 'the demo config says ties');
    assert.strictEqual(await page.textContent('[data-testid=method-about] [data-testid=method-summary]'), selected.summary);
    // The table's columns are ties' per-model numbers.
    const columns = await page.$$eval('#models-table thead th', (ths) => ths.slice(2).map((th) => th.textContent));
    assert.deepStrictEqual(columns, selected.params.filter((p) => p.scope === 'model' && p.kind === 'number').map((p) => p.name));

    // The playground merges several models: a method that takes one is not offered there.
    await page.waitForFunction(() => document.querySelector('[data-testid=playground]').dataset.state !== 'loading', null, { timeout: 30000 });
    const offered = await page.$$eval('[data-testid=pg-method] option', (os) => os.map((o) => o.value));
    assert.deepStrictEqual(offered, catalogue.filter((m) => m.needs_base || m.takes_base || m.models.max === null || m.models.max >= 2).map((m) => m.name));
  });
});
