'use strict';
// The page's evaluation panel (SPEC §9; data-testids eval-text, eval-run, eval-results): a
// TIES merge of two fine-tunes made in the page, then "Compare with its inputs" scores the
// merge (read from OPFS), the base and both fine-tunes on one fine-tune's "domain" text,
// and a picked .txt file scores them on the other's. Every number must be the CLI's
// (`scripts/wasmerge eval --json`) for the same files: the merge's as the page wrote them
// (downloaded), the text's bytes as picked. The CLI is checked against an f64 reference
// forward pass in tests/cli; equality with it is the check here. Then the errors: one
// line, and no table left from an earlier run.
const fs = require('fs');
const path = require('path');
const { test, assert, scratchDir, wasmerge } = require('../cli/harness');
const { writeLlama } = require('../cli/moe_models');
const { readSafetensors, writeSafetensors, rng, roundToGrid } = require('../../scripts/lib/st_io');
const { pickFolder, setConfig, mergeAndWait, statusText, download } = require('./browser');
const { withApp } = require('./app_session');
const { readZip } = require('./zip_reader');

// Words of the tiny tokenizer's vocabulary (tests/cli/moe_models.js): each fine-tune has its own.
const DOMAIN = {
  ft_abcd: 'abcd ab cd ab abcd cd ab ab abcd cd\nabcd ab cd abcd',
  // CRLF line ends and a trailing newline: the page must score the picked file's bytes, not
  // what its textarea makes of them.
  ft_ef: 'ef e f ef ef fe ef\r\nf e ef ef e ef f\r\n',
};
const CONFIG = `merge_method: ties
base_model: base
models:
  - model: ft_abcd
    parameters: {weight: 1.0, density: 0.6}
  - model: ft_ef
    parameters: {weight: 0.8, density: 0.6}
parameters: {normalize: true}
dtype: bfloat16
`;

// base (tiny Llama with tokenizer.json), and two fine-tunes: the base moved by up to ±0.1.
function family(label) {
  const dir = scratchDir(label);
  const base = writeLlama(dir, 'base', { seed: 7 });
  const { tensors, order } = readSafetensors(path.join(base, 'model.safetensors'));
  Object.keys(DOMAIN).forEach((name, k) => {
    const folder = path.join(dir, name);
    fs.mkdirSync(folder);
    const r = rng(100 + k);
    writeSafetensors(path.join(folder, 'model.safetensors'), order.map((n) => {
      const t = tensors.get(n);
      return { name: n, dtype: t.dtype, shape: t.shape, values: Array.from(t.values, (x) => roundToGrid(t.dtype, x + (r() * 2 - 1) * 0.1)) };
    }));
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(base, f), path.join(folder, f));
  });
  for (const [name, text] of Object.entries(DOMAIN)) fs.writeFileSync(path.join(dir, `${name}.txt`), text);
  writeLlama(dir, 'bare', { seed: 3, tokenizer: false });  // no tokenizer.json: an error
  const gpt2 = writeLlama(dir, 'gpt2', { seed: 4 });       // an architecture eval does not run
  fs.writeFileSync(path.join(gpt2, 'config.json'), JSON.stringify({ architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', n_layer: 2 }));
  return dir;
}

const evalState = (page) => page.evaluate(() => document.body.dataset.evalState);

async function evalAndWait(page, click = '[data-testid=eval-run]') {
  await page.click(click);
  await page.waitForFunction(() => ['done', 'failed', 'cancelled'].includes(document.body.dataset.evalState), null, { timeout: 30000 });
  return evalState(page);
}

const evalStatus = async (page) => (await page.textContent('[data-testid=eval-status]')).trim();

// The results table as [{model, tokens, nll, perplexity, bits_per_byte, seconds}], numbers
// from each cell's exact value.
function resultRows(page) {
  return page.$$eval('[data-testid=eval-results] tbody tr', (trs) => trs.map((tr) => {
    const row = {};
    for (const td of tr.cells) row[td.dataset.key] = td.dataset.value === undefined ? td.textContent : Number(td.dataset.value);
    return row;
  }));
}

// The CLI's numbers for the same files, keyed by the names the page shows.
function cliNumbers(dir, textFile, folders) {
  const r = wasmerge(['eval', '--text', textFile, '--json', ...Object.values(folders)], { cwd: dir });
  assert.strictEqual(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.strictEqual(out.length, Object.keys(folders).length);
  return Object.fromEntries(Object.keys(folders).map((name, i) => [name, out[i]]));
}

function assertSameNumbers(rows, cli) {
  assert.deepStrictEqual(rows.map((r) => r.model).sort(), Object.keys(cli).sort());
  for (const row of rows) {
    const want = cli[row.model];
    for (const key of ['tokens', 'nll', 'perplexity', 'bits_per_byte'])
      assert.strictEqual(row[key], want[key], `${row.model}: ${key} ${row[key]} in the page, ${want[key]} from the CLI`);
    assert.ok(Number.isFinite(row.nll) && row.nll > 0, `${row.model}: nll ${row.nll}`);
    assert.ok(row.seconds >= 0, `${row.model}: its evaluation's wall time`);
  }
}

test('page: eval of a TIES merge made in the page and its inputs on each fine-tune\'s domain text gives the CLI\'s numbers; errors in one line', async () => {
  const dir = family('browser-eval');
  await withApp(async ({ page, consoleLines }) => {
    for (const name of ['base', 'ft_abcd', 'ft_ef']) await pickFolder(page, path.join(dir, name));
    const listed = await page.$$eval('[data-testid=eval-models] input', (xs) => xs.map((x) => x.dataset.model));
    assert.deepStrictEqual(listed, ['base', 'ft_abcd', 'ft_ef']);
    assert.strictEqual(await page.isVisible('[data-testid=compare-inputs]'), false, 'no merge yet');
    await setConfig(page, CONFIG);
    assert.strictEqual(await mergeAndWait(page), 'done', await statusText(page));
    const merged = readZip((await download(page)).bytes);
    fs.mkdirSync(path.join(dir, 'merged'));
    for (const [name, bytes] of merged) fs.writeFileSync(path.join(dir, 'merged', name), bytes);
    assert.ok(merged.has('tokenizer.json') && merged.has('config.json'), `the merge wrote ${[...merged.keys()]}`);
    const folders = { base: 'base', ft_abcd: 'ft_abcd', ft_ef: 'ft_ef', merged: 'merged' };

    // One click: the merge and its three inputs, on the text typed in.
    await page.fill('[data-testid=eval-text]', DOMAIN.ft_abcd);
    assert.strictEqual(await evalAndWait(page, '[data-testid=compare-inputs]'), 'done', await evalStatus(page));
    const first = await resultRows(page);
    assertSameNumbers(first, cliNumbers(dir, 'ft_abcd.txt', folders));
    assert.deepStrictEqual(await page.$$eval('[data-testid=eval-progress] li .eval-progress-text', (xs) => xs.map((x) => x.textContent.replace(/[\d.]+ s$/, 'T'))),
      ['done in T', 'done in T', 'done in T', 'done in T'], 'each model\'s line ends with its wall time');
    const bars = await page.$$eval('[data-testid=eval-chart] svg', (svgs) => svgs.map((s) => [s.dataset.testid, s.querySelectorAll('rect').length]));
    assert.deepStrictEqual(bars, [['eval-chart-perplexity', 4], ['eval-chart-bpb', 4]]);

    // The other domain, from a picked file (CRLF kept), the base left out.
    await page.setInputFiles('[data-testid=eval-text-file]', path.join(dir, 'ft_ef.txt'));
    await page.uncheck('[data-testid=eval-models] input[data-model=base]');
    assert.strictEqual(await evalAndWait(page), 'done', await evalStatus(page));
    const second = await resultRows(page);
    const { base, ...rest } = folders;
    assertSameNumbers(second, cliNumbers(dir, 'ft_ef.txt', rest));
    // Each fine-tune's numbers differ between the two texts: the second run read its own text.
    assert.notStrictEqual(second.find((r) => r.model === 'ft_ef').nll, first.find((r) => r.model === 'ft_ef').nll);
    assert.deepStrictEqual(consoleLines.filter((l) => /^(pageerror|error):/.test(l)), [], 'no error in the page');

    // Errors: one line, and the table of the run before gone with it.
    const expectError = async (pattern) => {
      assert.strictEqual(await evalAndWait(page), 'failed');
      const status = await evalStatus(page);
      assert.match(status, pattern);
      assert.ok(!status.includes('\n'), `one line: ${status}`);
      assert.strictEqual(await page.isVisible('[data-testid=eval-results]'), false, 'no table after an error');
      assert.strictEqual(await page.isVisible('[data-testid=eval-progress]'), false, 'no progress left after an error');
    };
    // The tiny Llama has 64 positions (the engine's line).
    await page.fill('[data-testid=eval-context]', '65');
    await expectError(/^Could not evaluate: .*\b64\b/);
    await page.fill('[data-testid=eval-context]', '');
    await page.fill('[data-testid=eval-text]', '');
    await expectError(/^The text is empty/);
    await page.fill('[data-testid=eval-text]', DOMAIN.ft_abcd);
    await pickFolder(page, path.join(dir, 'bare'));
    await pickFolder(page, path.join(dir, 'gpt2'));
    await expectError(/^Could not evaluate: bare\/tokenizer\.json: not found/);
    await page.uncheck('[data-testid=eval-models] input[data-model=bare]');
    await expectError(/^Could not evaluate: gpt2\/config\.json: .*\(llama, mistral, qwen2, qwen3/);  // the supported ones named
  });
});
