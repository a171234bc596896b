'use strict';
// The page as a user meets it: isolation, the built-in demo, cancel, bad input, storage
// quota, the form and YAML kept in sync, and no request leaving localhost.
const fs = require('fs');
const path = require('path');
const { test, assert, scratchDir, wasmerge, ROOT } = require('../cli/harness');
const { baseValues, writeModel } = require('../../scripts/lib/model_sets');
const { pickFiles, setConfig, mergeAndWait, statusText, download, opfsFiles } = require('./browser');
const { withApp, offOrigin } = require('./app_session');
const { makeDemo } = require('../../scripts/make_demo');

const DEMO = path.join(ROOT, 'web/demo');

test('page: cross-origin isolated, so the engine has threads and shared memory', async () => {
  await withApp(async ({ page }) => {
    assert.strictEqual(await page.evaluate(() => self.crossOriginIsolated), true);
    assert.strictEqual(await page.evaluate(() => typeof SharedArrayBuffer), 'function');
    assert.strictEqual(await page.isVisible('#notice'), false, 'no "cannot merge here" notice');
  });
});

test('page: the demo merges with no files picked, to the bytes scripts/wasmerge gives', async () => {
  const out = path.join(scratchDir('demo'), 'out');
  const r = wasmerge(['merge.yaml', out], { cwd: DEMO });
  assert.strictEqual(r.status, 0, r.stderr);
  await withApp(async ({ page }) => {
    await page.waitForFunction(() => document.querySelector('[data-testid=config]').value.includes('merge_method'));
    assert.strictEqual(await page.inputValue('[data-testid=config]'), fs.readFileSync(path.join(DEMO, 'merge.yaml'), 'utf8'));
    assert.strictEqual(await mergeAndWait(page), 'done', await statusText(page));
    const got = await download(page);
    assert.ok(got.bytes.equals(fs.readFileSync(path.join(out, 'model.safetensors'))), 'demo result differs from the CLI');
    assert.match(await page.getAttribute('[data-testid=progress]', 'aria-valuenow'), /^100$/);
  });
});

test('demo: the committed web/demo is what scripts/make_demo.js writes', () => {
  const dir = scratchDir('make-demo');
  const files = makeDemo(dir);
  // (web/demo/'s subfolders belong to other demos, with their own generators and checks)
  const committed = fs.readdirSync(DEMO, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
  assert.deepStrictEqual(committed.sort(), files.slice().sort());
  for (const f of files) assert.ok(fs.readFileSync(path.join(dir, f)).equals(fs.readFileSync(path.join(DEMO, f))), `${f} differs: rerun scripts/make_demo.js`);
});

test('page: no request leaves localhost (fonts, analytics, CDNs: none)', async () => {
  await withApp(async ({ page, requests, url }) => {
    assert.strictEqual(await mergeAndWait(page), 'done', await statusText(page));
    await download(page);
    assert.ok(requests.length >= 10, `only ${requests.length} requests recorded: is recording broken?`);
    assert.ok(requests.some((r) => r.endsWith('/engine/wasmerge.wasm')), 'the engine was fetched');
    assert.deepStrictEqual(offOrigin(requests, url), []);
  });
});

// A model big enough that merging it takes seconds: sparse files of zeros, written at once.
function writeBigZeros(dir, name, tensors) {
  const header = {};
  const bytes = 4096 * 4096 * 2;
  for (let i = 0; i < tensors; i++)
    header[`model.layers.${i}.mlp.up_proj.weight`] = { dtype: 'BF16', shape: [4096, 4096], data_offsets: [i * bytes, (i + 1) * bytes] };
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const file = path.join(dir, name);
  const fd = fs.openSync(file, 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  fs.writeSync(fd, len);
  fs.writeSync(fd, json);
  fs.ftruncateSync(fd, 8 + json.length + tensors * bytes);
  fs.closeSync(fd);
  return file;
}

test('page: Cancel stops within a second and leaves no file in OPFS and no download', async () => {
  const dir = scratchDir('cancel');
  const files = ['big_base.safetensors', 'big_ft.safetensors'].map((n) => writeBigZeros(dir, n, 24));  // 800 MB each
  await withApp(async ({ page }) => {
    await pickFiles(page, files);
    await setConfig(page, `merge_method: task_arithmetic
base_model: big_base.safetensors
models:
  - {model: big_ft.safetensors, parameters: {weight: 1.0}}
`);
    await page.click('[data-testid=merge]');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=progress]').getAttribute('aria-valuenow')) >= 5,
      null, { timeout: 30000 });
    const clicked = Date.now();
    await page.click('[data-testid=cancel]');
    await page.waitForFunction(() => document.body.dataset.mergeState !== 'running', null, { timeout: 10000 });
    const took = Date.now() - clicked;
    assert.strictEqual(await page.evaluate(() => document.body.dataset.mergeState), 'cancelled', await statusText(page));
    assert.ok(took < 1000, `cancel took ${took} ms`);
    assert.match(await statusText(page), /Cancelled/);
    assert.deepStrictEqual(await opfsFiles(page), []);
    assert.strictEqual(await page.isVisible('[data-testid=download]'), false, 'a download is offered');
    assert.strictEqual(await page.getAttribute('[data-testid=download]', 'href'), null);
  });
});

test('page: a malformed .safetensors gets a message naming the file, not a stack trace', async () => {
  const dir = scratchDir('malformed');
  writeModel(dir, 'base', baseValues(1, 'BF16'), 'BF16');
  const bad = path.join(dir, 'broken.safetensors');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(4096n);  // a header longer than the file
  fs.writeFileSync(bad, Buffer.concat([len, Buffer.from('{"a": {"dtype": "BF16"')]));
  await withApp(async ({ page }) => {
    await pickFiles(page, [path.join(dir, 'base.safetensors'), bad]);
    await setConfig(page, `merge_method: task_arithmetic
base_model: base.safetensors
models:
  - {model: broken.safetensors, parameters: {weight: 1.0}}
`);
    assert.strictEqual(await mergeAndWait(page), 'failed');
    const status = await statusText(page);
    assert.match(status, /broken\.safetensors/);
    assert.doesNotMatch(status, /\n\s+at |Error:|undefined/);
    assert.deepStrictEqual(await opfsFiles(page), []);
  });
});

test('page: a model path that is not among the picked files is named in the message', async () => {
  await withApp(async ({ page }) => {
    await setConfig(page, `merge_method: task_arithmetic
base_model: base.safetensors
models:
  - {model: ./nowhere/model_x, parameters: {weight: 1.0}}
`);
    assert.strictEqual(await mergeAndWait(page), 'failed');
    assert.match(await statusText(page), /nowhere\/model_x/);
    assert.match(await page.textContent('#models-table'), /not among the picked files/);
  });
});

test('page: YAML that does not parse is shown at the text area and stops Merge', async () => {
  await withApp(async ({ page }) => {
    await setConfig(page, 'merge_method: ties\nmodels:\n  - model: [unclosed\n');
    await page.waitForSelector('#config-error:not([hidden])');
    assert.match(await page.textContent('#config-error'), /not valid YAML.*line \d+/);
    assert.strictEqual(await mergeAndWait(page), 'failed');
    assert.match(await statusText(page), /config has an error/);
  });
});

test('page: too little browser storage is said before the merge starts', async () => {
  await withApp(async ({ page }) => {
    assert.strictEqual(await mergeAndWait(page), 'failed');
    assert.match(await statusText(page), /Not enough browser storage.*needs about [\d.]+ MB/);
    assert.strictEqual(await page.textContent('#progress-stats'), 'Ready.', 'the merge was started anyway');
    assert.deepStrictEqual(await opfsFiles(page), []);
  }, { initScript: () => { navigator.storage.estimate = async () => ({ quota: 100000, usage: 50000 }); } });
});

test('page: the form and the YAML stay in sync both ways', async () => {
  await withApp(async ({ page }) => {
    await page.waitForFunction(() => document.querySelector('[data-testid=config]').value.includes('math.safetensors'));
    // form -> YAML
    await page.fill('tr[data-name="code.safetensors"] [data-field=weight]', '0.25');
    assert.match(await page.inputValue('[data-testid=config]'), /model: code\.safetensors\n\s+parameters: \{weight: 0\.25, density: 0\.5\}/);
    await page.selectOption('#method', 'dare_ties');
    await page.fill('#seed', '42');
    await page.selectOption('tr[data-name="chat.safetensors"] [data-field=role]', 'skip');
    const yaml = await page.inputValue('[data-testid=config]');
    assert.match(yaml, /^merge_method: dare_ties$/m);
    assert.match(yaml, /^random_seed: 42$/m);
    assert.doesNotMatch(yaml, /chat\.safetensors/);
    // YAML -> form
    await setConfig(page, `merge_method: linear
models:
  - {model: math.safetensors, parameters: {weight: [0.1, 0.9]}}
  - {model: chat.safetensors, parameters: {weight: 3}}
parameters: {lambda: 0.5, normalize: false}
dtype: float16
`);
    assert.strictEqual(await page.inputValue('#method'), 'linear');
    assert.strictEqual(await page.inputValue('#param-normalize'), 'false');
    assert.strictEqual(await page.locator('#param-lambda').count(), 0, 'linear reads no lambda: no field for it');
    assert.strictEqual(await page.inputValue('#dtype'), 'float16');
    assert.strictEqual(await page.inputValue('tr[data-name="math.safetensors"] [data-field=weight]'), '[0.1, 0.9]');
    assert.strictEqual(await page.inputValue('tr[data-name="chat.safetensors"] [data-field=role]'), 'merge');
    assert.strictEqual(await page.inputValue('tr[data-name="base.safetensors"] [data-field=role]'), 'skip');
    assert.strictEqual(await page.isVisible('th.density-col'), false, 'linear has no density');
  });
});

test('page: a file changed on disk after it was picked is named, with what happened', async () => {
  const dir = scratchDir('changed');
  const base = baseValues(1, 'BF16');
  writeModel(dir, 'base', base, 'BF16');
  writeModel(dir, 'later', baseValues(2, 'BF16'), 'BF16');
  await withApp(async ({ page }) => {
    await pickFiles(page, ['base.safetensors', 'later.safetensors'].map((f) => path.join(dir, f)));
    await setConfig(page, `merge_method: task_arithmetic
base_model: base.safetensors
models:
  - {model: later.safetensors, parameters: {weight: 1.0}}
`);
    await new Promise((r) => setTimeout(r, 1100));  // a modification time the browser can tell apart
    writeModel(dir, 'later', baseValues(3, 'BF16'), 'BF16');
    assert.strictEqual(await mergeAndWait(page), 'failed');
    assert.match(await statusText(page), /later\.safetensors.*changed or moved after it was picked/);
  });
});

test('page: once loaded, it works offline through its service worker, still cross-origin isolated', async () => {
  await withApp(async ({ page, context, stopServer }) => {
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.waitForFunction(async () => {
      const cache = await caches.open('wasmerge-v1');
      const urls = (await cache.keys()).map((r) => r.url);
      return ['engine/wasmerge.wasm', 'merge.worker.js', 'reader.worker.js', 'demo/base.safetensors', 'vendor/js-yaml.min.js']
        .every((p) => urls.some((u) => u.endsWith(p)));
    }, null, { timeout: 20000, polling: 250 });
    await stopServer();  // and the network with it
    await context.setOffline(true);
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.mergeState === 'idle');
    assert.strictEqual(await page.evaluate(() => self.crossOriginIsolated), true);
    assert.strictEqual(await mergeAndWait(page), 'done', await statusText(page));
    assert.match(await statusText(page), /Merged 39 tensors/);
  });
});

test('page: on a static host without COOP/COEP, the service worker makes it cross-origin isolated', async () => {
  await withApp(async ({ page }) => {
    await page.waitForFunction(() => self.crossOriginIsolated === true, null, { timeout: 20000 });
    await page.waitForFunction(() => document.body.dataset.mergeState === 'idle');
    assert.strictEqual(await mergeAndWait(page), 'done', await statusText(page));
  }, { isolationHeaders: false });
});

test('page: without cross-origin isolation (no headers, no service worker) it says what is missing', async () => {
  await withApp(async ({ page }) => {
    assert.strictEqual(await page.evaluate(() => self.crossOriginIsolated), false);
    assert.match(await page.textContent('#notice'), /lacks WebAssembly threads.*scripts\/wasmerge/);
    assert.strictEqual(await mergeAndWait(page), 'failed');
    assert.match(await statusText(page), /Merging needs WebAssembly threads/);
    assert.match(await page.inputValue('[data-testid=config]'), /merge_method: ties/, 'the config can still be written');
  }, { isolationHeaders: false, serviceWorkers: 'block' });
});

test('page: files dropped on the drop zone join the picked models', async () => {
  await withApp(async ({ page }) => {
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(1234)], 'dropped-a.safetensors'));
      dt.items.add(new File([new Uint8Array(99)], 'dropped-b.safetensors'));
      document.getElementById('dropzone').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await page.waitForSelector('tr[data-name="dropped-b.safetensors"]');
    assert.match(await page.textContent('tr[data-name="dropped-a.safetensors"]'), /file · 1 kB/);
    assert.strictEqual(await page.isVisible('#demo-banner'), false, 'the demo is replaced');
    assert.match(await page.inputValue('[data-testid=config]'), /dropped-a\.safetensors/);
  });
});
