'use strict';
// The page's "Upcycle to a mixture of experts" mode ([data-testid=upcycle-mode]): the
// mergekit-moe YAML it writes from its fields, what it says the engine would refuse, and
// the run (the page's Merge button, [data-testid=merge], which reads "Upcycle" in this
// mode) downloading the bytes scripts/wasmerge writes for the same YAML, with a random gate
// and with a prompt gate (prompts tokenized in the page with the base's tokenizer.json).
const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');
const { test, assert, scratchDir, wasmerge } = require('../cli/harness');
const { writeLlama } = require('../cli/moe_models');
const { pickFolder, setConfig, mergeAndWait, statusText, download } = require('./browser');
const { withApp } = require('./app_session');
const { readZip } = require('./zip_reader');

function family(label) {
  const dir = scratchDir(label);
  ['base', 'ft1', 'ft2'].forEach((name, k) => writeLlama(dir, name, { seed: k + 1 }));
  return dir;
}

const configOf = async (page) => yaml.load(await page.inputValue('[data-testid=config]'));
const checks = (page) => page.$$eval('[data-testid=method-check] li', (lis) => lis.map((li) => li.textContent));
const expertField = (k, field) => `[data-testid=upcycle-experts] li:nth-child(${k}) textarea[data-field=${field}]`;

async function pickFamily(page, dir) {
  for (const name of ['base', 'ft1', 'ft2']) await pickFolder(page, path.join(dir, name));
}

test('page: the upcycle mode writes a mergekit-moe YAML from its fields, says what the engine would refuse, and takes a pasted one', async () => {
  const dir = family('browser-moe-form');
  await withApp(async ({ page, consoleLines }) => {
    await pickFamily(page, dir);
    await page.check('[data-testid=upcycle-mode]');
    assert.deepStrictEqual(await configOf(page), { base_model: 'base', gate_mode: 'random', experts_per_token: 2,
      experts: [{ source_model: 'ft1' }, { source_model: 'ft2' }] });
    assert.strictEqual(await page.isVisible('[data-testid=method]'), false, 'no merge method in this mode');
    assert.strictEqual((await page.textContent('[data-testid=merge]')).trim(), 'Upcycle');
    assert.match(await page.textContent('[data-testid=upcycle-gate-cost]'), /Costs nothing/);

    await page.selectOption('[data-testid=upcycle-gate-mode]', 'hidden');
    assert.strictEqual((await configOf(page)).gate_mode, 'hidden');
    assert.match(await page.textContent('[data-testid=upcycle-gate-cost]'), /forward pass of the base model over the prompts/);
    assert.deepStrictEqual(await checks(page), [
      'expert 1 (ft1) has no positive prompts, which gate_mode hidden needs (or pick random or uniform_random).',
      'expert 2 (ft2) has no positive prompts, which gate_mode hidden needs (or pick random or uniform_random).']);
    await page.fill(expertField(1, 'positive_prompts'), 'abcd ef\ndab ');
    await page.fill(expertField(1, 'negative_prompts'), 'fe');
    await page.fill(expertField(2, 'positive_prompts'), 'ba cd');
    assert.deepStrictEqual((await configOf(page)).experts, [
      { source_model: 'ft1', positive_prompts: ['abcd ef', 'dab '], negative_prompts: ['fe'] },
      { source_model: 'ft2', positive_prompts: ['ba cd'] }]);
    assert.deepStrictEqual(await checks(page), []);

    await page.fill('[data-testid=upcycle-experts-per-token]', '3');
    assert.match((await checks(page)).join(), /experts_per_token is 3, and there are 2 experts/);
    await page.fill('[data-testid=upcycle-experts-per-token]', '1');
    await page.selectOption('[data-testid=upcycle-shared]', 'base');
    assert.deepStrictEqual((await configOf(page)).shared_experts, [{ source_model: 'base' }]);
    await page.selectOption('[data-testid=upcycle-shared]', '');

    // The base copied E times: prompts stay with their expert numbers.
    await page.check('[data-testid=upcycle-source-copies]');
    await page.fill('[data-testid=upcycle-copies]', '3');
    const copies = await configOf(page);
    assert.deepStrictEqual(copies.experts.map((e) => e.source_model), ['base', 'base', 'base']);
    assert.deepStrictEqual(copies.experts[0].positive_prompts, ['abcd ef', 'dab ']);
    assert.strictEqual(copies.experts_per_token, 1);

    await page.check('[data-testid=merge-mode]');
    assert.ok((await configOf(page)).merge_method, 'back to a merge');
    assert.strictEqual(await page.isChecked('[data-testid=upcycle-mode]'), false);

    await setConfig(page, 'base_model: base\ngate_mode: cheap_embed\nexperts:\n  - source_model: ft2\n    positive_prompts: [ab]\n  - source_model: ft1\n');
    assert.strictEqual(await page.isChecked('[data-testid=upcycle-mode]'), true, 'a pasted mergekit-moe YAML is the upcycle mode');
    assert.strictEqual(await page.inputValue('[data-testid=upcycle-gate-mode]'), 'cheap_embed');
    assert.match(await page.textContent('[data-testid=upcycle-gate-cost]'), /one embedding lookup/);
    assert.deepStrictEqual(await checks(page), ['expert 2 (ft1) has no positive prompts, which gate_mode cheap_embed needs (or pick random or uniform_random).']);
    assert.strictEqual(await page.isVisible('#config-error'), false, 'the page takes it: no "merge_method" asked for');
    assert.deepStrictEqual(consoleLines.filter((l) => /^(pageerror|error):/.test(l)), [], 'no error in the page');
  });
});

// Runs the page's upcycle as set up by fill(page), then scripts/wasmerge on the YAML the page
// wrote; -> {zip (file name -> bytes), cli (folder), stats (the progress lines seen)}.
async function upcycleInPage(dir, fill) {
  let zip;
  let text;
  let stats;
  await withApp(async ({ page }) => {
    await pickFamily(page, dir);
    await page.check('[data-testid=upcycle-mode]');
    await fill(page);
    text = await page.inputValue('[data-testid=config]');
    // Every line the progress shows, forward pass included.
    await page.evaluate(() => {
      self.progressLines = [];
      const stats = document.getElementById('progress-stats');
      new MutationObserver(() => self.progressLines.push(stats.textContent)).observe(stats, { childList: true, characterData: true, subtree: true });
    });
    assert.strictEqual(await mergeAndWait(page), 'done', await statusText(page));
    stats = await page.evaluate(() => self.progressLines);
    zip = await download(page);
  });
  fs.writeFileSync(path.join(dir, 'moe.yaml'), text);
  const r = wasmerge(['moe.yaml', 'cli-out'], { cwd: dir });
  assert.strictEqual(r.status, 0, r.stderr);
  return { zip: readZip(zip.bytes), cli: path.join(dir, 'cli-out'), stats, config: yaml.load(text) };
}

function assertSameFolder(zip, cli) {
  const expected = fs.readdirSync(cli).sort();
  assert.deepStrictEqual([...zip.keys()].sort(), expected);
  assert.ok(expected.includes('config.json') && expected.includes('model.safetensors'), expected.join(', '));
  for (const f of expected) assert.ok(zip.get(f).equals(fs.readFileSync(path.join(cli, f))), `${f} differs from the CLI's`);
}

test('page: an upcycle with a random gate downloads the bytes scripts/wasmerge writes for the YAML the page wrote', async () => {
  const dir = family('browser-moe-random');
  const { zip, cli, config } = await upcycleInPage(dir, async (page) => {
    await page.fill('#seed', '11');
    await page.selectOption('#dtype', 'bfloat16');
  });
  assert.strictEqual(config.gate_mode, 'random');
  assert.strictEqual(config.random_seed, 11);
  assertSameFolder(zip, cli);
  assert.strictEqual(JSON.parse(zip.get('config.json')).num_local_experts, 2);
});

// The base copied 3 times, each copy its prompts (hand-worked ids in tests/web/prompt_tokens.test.js).
const fillPrompts = (gate) => async (page) => {
  await page.check('[data-testid=upcycle-source-copies]');
  await page.fill('[data-testid=upcycle-copies]', '3');
  await page.selectOption('[data-testid=upcycle-gate-mode]', gate);
  await page.fill(expertField(1, 'positive_prompts'), 'abcd ef\ndab');
  await page.fill(expertField(1, 'negative_prompts'), 'fe');
  await page.fill(expertField(2, 'positive_prompts'), 'ba cd');
  await page.fill(expertField(3, 'positive_prompts'), 'ef ab');
};

test('page: an upcycle with cheap_embed gates (prompts tokenized in the page) downloads the CLI\'s bytes', async () => {
  const dir = family('browser-moe-cheap');
  const { zip, cli, config, stats } = await upcycleInPage(dir, fillPrompts('cheap_embed'));
  assert.strictEqual(config.gate_mode, 'cheap_embed');
  assertSameFolder(zip, cli);
  assert.ok(!stats.some((s) => /Router forward pass/.test(s)), `cheap_embed needs no forward pass: ${stats.join(' | ')}`);
});

test('page: an upcycle with hidden_avg gates downloads the CLI\'s bytes and shows the routers\' forward pass', async () => {
  const dir = family('browser-moe-hidden');
  const { zip, cli, stats } = await upcycleInPage(dir, fillPrompts('hidden_avg'));
  assertSameFolder(zip, cli);
  assert.ok(stats.some((s) => /^Router forward pass: layer [12] of 2$/.test(s)), `progress lines: ${stats.join(' | ')}`);
});
