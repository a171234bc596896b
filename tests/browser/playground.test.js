'use strict';
// The merging playground (web/playground/): its demo models are what the trainer writes
// and are worth merging; moving a control re-merges and changes the accuracy table
// (data-testid=demo-results), whose numbers equal scripts/wasmerge's merge of the same
// config evaluated with the same forward pass; the TIES steps (data-testid=ties-steps)
// count what an independent TIES computation counts; the charts and the per-layer report
// of the picked models agree with the rest; every control change shows the merge of its settings.
const fs = require('fs');
const path = require('path');
const { test, assert, scratchDir, wasmerge, ROOT } = require('../cli/harness');
const { readSafetensors } = require('../../scripts/lib/st_io');
const { withApp } = require('./app_session');
const { trainDemo } = require('../../scripts/train_demo');
const mlp = require('../../web/playground/mlp');
const { evalSet } = require('../../web/playground/tasks');
const { taskVectors, tiesWindow, signConflictShare } = require('./playground_reference');
const { catalogue, method } = require('./catalogue');

const DEMO = path.join(ROOT, 'web/demo/playground');
const LLAMA_DEMO = path.join(ROOT, 'web/demo');
const manifest = JSON.parse(fs.readFileSync(path.join(DEMO, 'playground.json'), 'utf8'));
const NET = manifest.network;
const ROOT_SEL = '[data-testid=playground]';

function weightsOf(file) {
  const { tensors } = readSafetensors(file);
  return Object.fromEntries([...tensors].map(([name, t]) => [name, t.values]));
}

const accuracyOf = (weights, task) => mlp.accuracy(weights, NET, task, evalSet(task));

test('playground: the committed web/demo/playground is what scripts/train_demo.js writes', () => {
  const dir = scratchDir('train-demo');
  const files = trainDemo(dir);
  assert.deepStrictEqual(fs.readdirSync(DEMO).sort(), files.slice().sort());
  for (const f of files) assert.ok(fs.readFileSync(path.join(dir, f)).equals(fs.readFileSync(path.join(DEMO, f))), `${f} differs: rerun scripts/train_demo.js`);
});

test('playground: each fine-tune beats the base on its own task, and only there', () => {
  const base = weightsOf(path.join(DEMO, manifest.base));
  for (const { name, file } of manifest.tasks) {
    const ft = weightsOf(path.join(DEMO, file));
    const own = accuracyOf(ft, name);
    const baseAcc = accuracyOf(base, name);
    assert.ok(own >= 0.9 && baseAcc <= 0.6, `${name}: fine-tune ${own}, base ${baseAcc}`);
    assert.strictEqual(own, manifest.accuracy[name][name], `${name}: playground.json disagrees with the files`);
    for (const other of manifest.tasks.filter((t) => t.name !== name))
      assert.strictEqual(accuracyOf(ft, other.name), accuracyOf(base, other.name), `${name} fine-tune changed ${other.name}'s head`);
  }
});

// ---- in the page ----

async function openPlayground(page) {
  await page.waitForFunction((s) => {
    const r = document.querySelector(s);
    return r && (r.dataset.state === 'error' || Number(r.dataset.updates) > 0);
  }, ROOT_SEL, { timeout: 30000 });
  assert.strictEqual(await page.getAttribute(ROOT_SEL, 'data-state'), 'ready', await page.textContent('#pg-latency'));
}

const updates = (page) => page.evaluate((s) => Number(document.querySelector(s).dataset.updates), ROOT_SEL);

// Sets a control as a user would (its input event) and waits for the merge it causes
// (merges: false, for a change that leaves nothing to merge, e.g. no task checked).
async function setControl(page, testid, value, { merges = true } = {}) {
  const before = await updates(page);
  await page.$eval(`[data-testid=${testid}]`, (el, v) => {
    if (el.type === 'checkbox') el.checked = v;
    else el.value = String(v);
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, value);
  if (merges) await page.waitForFunction(([s, b]) => Number(document.querySelector(s).dataset.updates) > b, [ROOT_SEL, before]);
}

// -> {task: the merge's accuracy} as the table shows it
function mergeRow(page) {
  return page.$$eval('[data-testid=demo-results] td[data-model=merge][data-value]', (cells) =>
    Object.fromEntries(cells.filter((c) => c.dataset.task !== 'mean').map((c) => [c.dataset.task, Number(c.dataset.value)])));
}

// The page's config through scripts/wasmerge next to the demo files; -> the output's path.
function cliMerge(yaml) {
  const dir = scratchDir('playground-cli');
  fs.writeFileSync(path.join(dir, 'merge.yaml'), yaml);
  const r = wasmerge([path.join(dir, 'merge.yaml'), path.join(dir, 'out')], { cwd: DEMO });
  assert.strictEqual(r.status, 0, r.stderr);
  return path.join(dir, 'out', 'model.safetensors');
}

async function checkAgainstCli(page) {
  const yaml = await page.textContent('[data-testid=playground-config]');
  const shown = await mergeRow(page);
  const file = cliMerge(yaml);
  const merged = weightsOf(file);
  const expected = Object.fromEntries(Object.keys(shown).map((t) => [t, accuracyOf(merged, t)]));
  assert.deepStrictEqual(shown, expected, `table vs scripts/wasmerge for\n${yaml}`);
  const bytes = Buffer.from(await page.evaluate(async () => [...new Uint8Array(await (await fetch(document.querySelector('#pg-download').href)).arrayBuffer())]));
  assert.ok(bytes.equals(fs.readFileSync(file)), 'the page merged other bytes than scripts/wasmerge');
  return shown;
}

test('playground: moving a control re-merges; demo-results equal scripts/wasmerge\'s merge, evaluated alike', async () => {
  await withApp(async ({ page }) => {
    await openPlayground(page);
    const first = await checkAgainstCli(page);
    assert.strictEqual(Object.keys(first).length, manifest.tasks.length, 'every task merged at first');

    await setControl(page, 'pg-density', 0.2);
    const second = await checkAgainstCli(page);
    assert.notDeepStrictEqual(second, first, 'density 0.5 -> 0.2 changed nothing in demo-results');

    await setControl(page, 'pg-method', 'dare_ties');
    await setControl(page, 'pg-seed', 7);
    await setControl(page, 'pg-weight-spirals', 0.5);
    await setControl(page, 'pg-task-wave', false);
    const third = await checkAgainstCli(page);
    assert.ok(!('wave' in third), 'an unmerged task has no merge accuracy');
    const yaml = await page.textContent('[data-testid=playground-config]');
    assert.match(yaml, /merge_method: dare_ties[\s\S]*random_seed: 7/);

    // The merges are worth looking at: between the base and the fine-tunes.
    const normalized = Number(await page.getAttribute('[data-testid=demo-normalized]', 'data-normalized'));
    assert.ok(normalized > 0.6 && normalized < 1, `normalized accuracy ${normalized}`);
  });
});

test('playground: ties-steps counts what an independent TIES computation counts', async () => {
  await withApp(async ({ page }) => {
    await openPlayground(page);
    await setControl(page, 'pg-method', 'ties');
    await setControl(page, 'pg-density', 0.3);
    await setControl(page, 'pg-weight-moons', 1.5);
    const tensor = await page.inputValue('[data-testid=pg-explain-tensor]');
    assert.strictEqual(tensor, 'trunk.layers.1.weight');
    const panels = await page.$$eval('[data-testid=ties-steps] .step-panel', (els) => els.map((e) => ({ ...e.dataset })));
    const count = (step, model) => Number(panels.find((p) => p.step === step && (model === undefined || p.model === String(model))).count);

    const files = manifest.tasks.map((t) => path.join(DEMO, t.file));
    const weights = manifest.tasks.map((t) => (t.name === 'moons' ? 1.5 : 1));
    // The first crop: rows 0-15, columns 0-15 of the 64 x 64 matrix.
    const crop = [];
    for (let r = 0; r < 16; r++) for (let c = 0; c < 16; c++) crop.push(r * 64 + c);
    const ref = tiesWindow(taskVectors(path.join(DEMO, manifest.base), files, tensor), weights, 0.3, crop);
    manifest.tasks.forEach((t, k) => {
      assert.strictEqual(count('kept', k), ref.kept[k], `${t.name}: kept`);
      assert.strictEqual(count('agree', k), ref.agree[k], `${t.name}: agrees`);
    });
    assert.strictEqual(count('sign'), ref.plus, 'elected +');
    assert.strictEqual(Number(panels.find((p) => p.step === 'sign').minus), ref.minus, 'elected −');
    assert.strictEqual(count('mixed'), ref.mixedNonZero, 'merged non-zero');
    assert.ok(ref.kept.every((k) => k > 0) && ref.plus > 0 && ref.minus > 0, 'a crop worth checking');
  });
});

test('playground: the charts finish; their all-tasks TIES point is the checked merge\'s normalized accuracy', async () => {
  await withApp(async ({ page }) => {
    await openPlayground(page);
    assert.strictEqual(await page.getAttribute(ROOT_SEL, 'data-charts'), null, 'the charts wait until they are seen');
    await page.locator('[data-testid=chart-growth]').scrollIntoViewIfNeeded();
    await page.waitForFunction((s) => document.querySelector(s).dataset.charts === 'done', ROOT_SEL, { timeout: 120000 });
    const growth = JSON.parse(await page.getAttribute('#pg-chart-growth', 'data-table'));
    const drops = JSON.parse(await page.getAttribute('#pg-chart-drops', 'data-table'));
    const normalized = Number(await page.getAttribute('[data-testid=demo-normalized]', 'data-normalized'));
    assert.strictEqual(growth.ties[manifest.tasks.length - 1], normalized, 'growth chart vs the TIES merge of all tasks');
    assert.strictEqual(growth.linear[0], 1, 'a linear "merge" of one model is that model');
    for (const series of Object.values(drops)) assert.ok(series.every((v) => typeof v === 'number' && v > 0.3 && v <= 1), JSON.stringify(series));
    for (const series of Object.values(growth)) assert.ok(series.every((v) => v === null || (v > 0.3 && v <= 1)), JSON.stringify(series));
    assert.ok((await page.textContent('#pg-growth-note')).includes('TIES paper'));
    // Every method offered has its series: a value at each number of tasks it takes, none elsewhere;
    // where the engine refuses a merge of some subset the point is left out and the note says why.
    const offered = catalogue().filter((m) => m.needs_base || m.takes_base || m.models.max === null || m.models.max >= 2);
    const failures = JSON.parse(await page.getAttribute('#pg-chart-growth', 'data-failures'));
    assert.deepStrictEqual(Object.keys(growth).sort(), offered.map((m) => m.name).sort());
    for (const m of offered) {
      const takes = (n) => n >= m.models.min && (m.models.max === null || n <= m.models.max);
      const shown = growth[m.name].map((v) => v !== null);
      const taken = manifest.tasks.map((_, i) => takes(i + 1));
      if (failures[m.name]) assert.ok(shown.every((s, i) => !s || taken[i]) && shown.filter(Boolean).length < taken.filter(Boolean).length, m.name);
      else assert.deepStrictEqual(shown, taken, m.name);
    }
    for (const [name, f] of Object.entries(failures))
      assert.ok((await page.textContent('#pg-growth-note')).includes(`the engine refused ${f.count} of these merges`), name);
    assert.deepStrictEqual(await page.$$eval('[data-testid=chart-growth] .chart-legend li', (lis) => lis.map((li) => li.textContent)),
      offered.map((m) => m.title));
    assert.ok((await page.textContent('#pg-drops-note')).includes('DARE paper'));
  });
});

test('playground: slerp takes one fine-tune and its t from the catalogue; the page\'s merge is scripts/wasmerge\'s; the chart has it', async () => {
  const slerp = method('slerp');
  await withApp(async ({ page }) => {
    await openPlayground(page);
    await setControl(page, 'pg-method', 'slerp');
    const checked = () => page.$$eval('#pg-task-list input[type=checkbox]', (cs) => cs.map((c) => c.checked));
    assert.deepStrictEqual(await checked(), manifest.tasks.map((_, i) => i === 0), 'one fine-tune: the first of those chosen');
    assert.match(await page.textContent('[data-testid=playground-config]'), /^parameters:\n\s+t: 0\.5$/m, 't starts mid-range');
    await setControl(page, 'pg-param-t', 0.25);
    await setControl(page, 'pg-task-moons', false, { merges: false });
    await setControl(page, 'pg-task-spirals', true);
    const shown = await checkAgainstCli(page);
    assert.deepStrictEqual(Object.keys(shown), ['spirals']);
    assert.match(await page.textContent('[data-testid=playground-config]'), /merge_method: slerp[\s\S]*spirals\.safetensors[\s\S]*t: 0\.25/);
    // Back to a method taking any number: the user's own choice of tasks again.
    await setControl(page, 'pg-method', 'ties');
    assert.deepStrictEqual(await checked(), manifest.tasks.map((t) => t.name === 'spirals'));
    await page.locator('[data-testid=chart-growth]').scrollIntoViewIfNeeded();
    await page.waitForFunction((s) => document.querySelector(s).dataset.charts === 'done', ROOT_SEL, { timeout: 120000 });
    const growth = JSON.parse(await page.getAttribute('#pg-chart-growth', 'data-table'));
    assert.ok(growth.slerp[0] > 0 && growth.slerp.slice(1).every((v) => v === null), JSON.stringify(growth.slerp));
    assert.ok((await page.textContent('[data-testid=chart-growth] .chart-legend')).includes(slerp.title));
    assert.ok((await page.textContent('#pg-growth-note')).includes(`${slerp.title}`), 'the note says what a one-fine-tune blend shows here');
  });
});

test('playground: the per-layer report of the picked models counts the sign conflicts there are', async () => {
  const demo = JSON.parse(fs.readFileSync(path.join(LLAMA_DEMO, 'demo.json'), 'utf8'));
  const [base, ...models] = demo.files.map((f) => path.join(LLAMA_DEMO, f));
  const expected = signConflictShare(base, models);
  await withApp(async ({ page }) => {
    await openPlayground(page);
    await page.click('[data-testid=pg-analyze]');
    await page.waitForFunction(() => document.querySelector('[data-testid=layer-report]').dataset.tensors, null, { timeout: 20000 });
    const report = await page.$eval('[data-testid=layer-report]', (el) => ({ ...el.dataset }));
    assert.strictEqual(Number(report.tensors), readSafetensors(base).order.length);
    assert.ok(Math.abs(Number(report.signConflict) - expected) < 1e-12, `sign conflicts ${report.signConflict}, expected ${expected}`);
    assert.strictEqual(await page.$$eval('[data-testid=layer-report] svg', (s) => s.length), 2, 'two charts');
  });
});

test('playground: each control change shows a merge of the new settings (update latencies logged, not judged)', async () => {
  await withApp(async ({ page }) => {
    await openPlayground(page);
    const ms = [];
    for (let i = 0; i < 9; i++) {
      const lambda = (0.5 + 0.1 * i).toFixed(2);
      await setControl(page, 'pg-lambda', lambda);
      assert.match(await page.textContent('[data-testid=playground-config]'), new RegExp(`lambda: ${Number(lambda)}\\b`));
      ms.push(Number(await page.getAttribute('[data-testid=playground-latency]', 'data-ms')));
    }
    ms.sort((a, b) => a - b);
    // How fast is the machine's business, not the test's: a slow CI box must not fail it.
    console.log(`     update latency (ms): ${ms.map((x) => x.toFixed(0)).join(' ')}`);
  });
});
