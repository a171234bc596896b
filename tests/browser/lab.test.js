'use strict';
// The layer-space lab (web/lab/): its demo model is what scripts/train_lab.js writes and
// depth matters for it; every number the page shows for a merge equals an independent f64
// evaluation (lab_reference.js) of scripts/wasmerge's merge of the config the page shows;
// the removal chart agrees with removals done without any merge; the training curves start
// where the merges are, and training can be stopped.
const fs = require('fs');
const path = require('path');
const { test, assert, scratchDir, wasmerge, ROOT } = require('../cli/harness');
const { withApp } = require('./app_session');
const { referenceEval } = require('./lab_reference');
const { evalSet } = require('../../web/lab/lab_task');

const DEMO = path.join(ROOT, 'web/demo');
const LAB = path.join(DEMO, 'lab');
const ROOT_SEL = '[data-testid=layer-lab]';
const manifest = JSON.parse(fs.readFileSync(path.join(LAB, 'lab.json'), 'utf8'));
const SET = evalSet();

test('lab: the committed web/demo/lab is what scripts/train_lab.js writes (about 20 s of training)', () => {
  const { trainLab } = require('../../scripts/train_lab');
  const dir = scratchDir('train-lab');
  const files = trainLab(dir);
  assert.deepStrictEqual(fs.readdirSync(LAB).sort(), files.slice().sort());
  for (const f of files) assert.ok(fs.readFileSync(path.join(dir, f)).equals(fs.readFileSync(path.join(LAB, f))), `${f} differs: rerun scripts/train_lab.js`);
});

test('lab: the demo model solves its task, its first block matters and its last ones barely', () => {
  const full = referenceEval(LAB, SET).accuracy;
  assert.strictEqual(full, manifest.accuracy, 'lab.json disagrees with the file');
  assert.ok(full >= 0.95, `accuracy ${full}`);
  const first = referenceEval(LAB, SET, { blocks: [0] }).accuracy;
  const last = referenceEval(LAB, SET, { blocks: [manifest.network.layers - 1] }).accuracy;
  assert.ok(first < 0.6 && last > 0.9, `without block 0: ${first}, without the last: ${last}`);
});

// ---- in the page ----

async function openLab(page) {
  await page.waitForFunction((s) => ['ready', 'error'].includes(document.querySelector(s).dataset.state), ROOT_SEL, { timeout: 30000 });
  assert.strictEqual(await page.getAttribute(ROOT_SEL, 'data-state'), 'ready', await page.textContent('#lab-status'));
}

const updates = (page) => page.evaluate((s) => Number(document.querySelector(s).dataset.updates), ROOT_SEL);

// Sets a control as a user would and waits for the view it redraws.
async function setControl(page, testid, value) {
  const before = await updates(page);
  await page.$eval(`[data-testid=${testid}]`, (el, v) => {
    el.value = String(v);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, value);
  await page.waitForFunction(([s, b]) => Number(document.querySelector(s).dataset.updates) > b, [ROOT_SEL, before]);
  const error = await page.getAttribute(ROOT_SEL, 'data-last-error');
  assert.strictEqual(error, null, error);
  latencies.push(Number(await page.getAttribute('[data-testid=lab-latency]', 'data-ms')));
}
const latencies = [];

// The page's config through scripts/wasmerge in web/demo/ -> the output folder.
function cliMerge(yaml) {
  const dir = scratchDir('lab-cli');
  fs.writeFileSync(path.join(dir, 'lab.yaml'), yaml);
  const r = wasmerge([path.join(dir, 'lab.yaml'), path.join(dir, 'out')], { cwd: DEMO });
  assert.strictEqual(r.status, 0, r.stderr);
  return path.join(dir, 'out');
}

const shownValue = async (page, testid) => Number(await page.getAttribute(`[data-testid=${testid}]`, 'data-value'));

async function checkAgainstCli(page, configId, valueId, skip) {
  const yaml = await page.textContent(`[data-testid=${configId}]`);
  const out = cliMerge(yaml);
  const ref = referenceEval(out, SET);
  assert.strictEqual(await shownValue(page, valueId), ref.accuracy, `${valueId} vs scripts/wasmerge for\n${yaml}`);
  if (skip) assert.strictEqual(ref.accuracy, referenceEval(LAB, SET, skip).accuracy, `the merge is not the removal ${JSON.stringify(skip)}`);
  return { yaml, out, ref };
}

test('lab: removals, depth up-scaling and upcycling in the page equal scripts/wasmerge\'s merges, evaluated independently', async () => {
  await withApp(async ({ page }) => {
    await openLab(page);
    await setControl(page, 'lab-remove-block', 0);
    let r = await checkAgainstCli(page, 'lab-removal-config', 'lab-removal-accuracy', { blocks: [0] });
    assert.match(r.yaml, /layer_range: \[1, 8\]/);
    await setControl(page, 'lab-remove-kind', 'attention');
    await setControl(page, 'lab-remove-block', 1);
    r = await checkAgainstCli(page, 'lab-removal-config', 'lab-removal-accuracy', { attention: [1] });
    assert.match(r.yaml, /filter: model\.layers\.1\.self_attn\.o_proj, value: 0/);
    await setControl(page, 'lab-remove-kind', 'mlp');
    await checkAgainstCli(page, 'lab-removal-config', 'lab-removal-accuracy', { mlp: [1] });

    await setControl(page, 'lab-dus-drop', 3);
    r = await checkAgainstCli(page, 'lab-dus-config', 'lab-dus-accuracy');
    assert.strictEqual(JSON.parse(fs.readFileSync(path.join(r.out, 'config.json'), 'utf8')).num_hidden_layers, 10);
    assert.strictEqual(await page.textContent('#lab-dus-layers'), '10');

    await setControl(page, 'lab-up-experts', 3);
    await setControl(page, 'lab-up-gate', 'uniform_random');
    r = await checkAgainstCli(page, 'lab-up-config', 'lab-up-accuracy');
    assert.match(r.yaml, /gate_mode: uniform_random[\s\S]*experts_per_token: 2/);
    const dense = referenceEval(LAB, SET);
    let most = 0;
    r.ref.logits.forEach((z, i) => z.forEach((v, c) => { most = Math.max(most, Math.abs(v - dense.logits[i][c])); }));
    const shownDiff = await shownValue(page, 'lab-up-diff');
    assert.ok(most < 1e-5 && shownDiff < 1e-5, `upcycled vs dense: ${most} (reference), ${shownDiff} (page)`);
    const shares = JSON.parse(await page.getAttribute('[data-testid=lab-up-shares]', 'data-shares'));
    assert.strictEqual(shares.length, 8);
    shares.forEach((row, l) => row.forEach((s, e) => assert.ok(Math.abs(s - r.ref.shares[l][e]) < 1e-12, `layer ${l} expert ${e}: ${s} vs ${r.ref.shares[l][e]}`)));
    // How fast is the machine's business, not the test's: logged, not judged.
    console.log(`     update latency (ms): ${latencies.map((x) => x.toFixed(0)).join(' ')}`);
  });
});

test('lab: the removal chart equals removals without a merge; training curves start at the merges and stop on request', async () => {
  await withApp(async ({ page }) => {
    await openLab(page);
    assert.strictEqual(await page.getAttribute('[data-testid=removal-chart]', 'data-state'), null, 'the charts wait until they are seen');
    await page.locator('[data-testid=removal-chart]').scrollIntoViewIfNeeded();
    await page.waitForFunction(() => document.querySelector('[data-testid=removal-chart]').dataset.state === 'done', null, { timeout: 30000 });
    const table = JSON.parse(await page.getAttribute('[data-testid=removal-chart]', 'data-table'));
    const n = manifest.network.layers;
    for (let i = 0; i < n; i++) {
      assert.strictEqual(table.which.block[i], referenceEval(LAB, SET, { blocks: [i] }).accuracy, `block ${i}`);
      assert.strictEqual(table.which.mlp[i], referenceEval(LAB, SET, { mlp: [i] }).accuracy, `mlp ${i}`);
    }
    assert.strictEqual(table.count.length, n);
    assert.ok(table.count.slice(1).every((draws) => draws.length === 5));

    // Training: each view's curve starts at its merged model and the original; Stop ends it early.
    const dense = manifest.accuracy;
    const stacked = await shownValue(page, 'lab-dus-accuracy');
    const upcycled = await shownValue(page, 'lab-up-accuracy');
    for (const [view, button, stop, first, second] of [['dus-curve', 'lab-dus-train', 'lab-dus-stop', 'upscaled', 'original'],
      ['upcycle-view', 'lab-up-train', 'lab-up-stop', 'upcycled', 'dense']]) {
      await page.click(`[data-testid=${button}]`);
      await page.waitForFunction((v) => {
        const t = document.querySelector(`[data-testid=${v}]`).dataset.table;
        return t && JSON.parse(t).steps.length >= 3;
      }, view, { timeout: 60000 });
      await page.click(`[data-testid=${stop}]`);
      await page.waitForFunction((v) => document.querySelector(`[data-testid=${v}]`).dataset.training === 'stopped', view);
      const curves = JSON.parse(await page.getAttribute(`[data-testid=${view}]`, 'data-table'));
      assert.deepStrictEqual(curves.steps.slice(0, 3), [0, 25, 50], view);
      assert.ok(curves.steps[curves.steps.length - 1] < 300, `${view}: stopped early`);
      assert.strictEqual(curves[first].accuracy[0], view === 'dus-curve' ? stacked : upcycled, view);
      assert.strictEqual(curves[second].accuracy[0], dense, view);
      assert.ok([...curves[first].loss, ...curves[second].loss].every(Number.isFinite), view);
      // Trained on the same batches, the stack and the upcycled model still learn apart from the original.
      assert.notStrictEqual(curves[first].loss[2], curves[second].loss[2], view);
    }
  });
});
