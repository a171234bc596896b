'use strict';
// The method card as a user meets it: every method of the engine's catalogue can be picked
// and read about (title linked to its paper, summary, formula) before it is chosen; the
// fields follow the picked method (SLERP's required t, DELLA's per-model epsilon); what the
// engine would refuse (a model count, a missing value, a value out of range) is said in
// the card before a merge.
const { test, assert } = require('../cli/harness');
const { withApp } = require('./app_session');
const { catalogue, method } = require('./catalogue');

const DEMO_CONFIG = (page) => page.waitForFunction(() => document.querySelector('[data-testid=config]').value.includes('math.safetensors'));
const yamlText = (page) => page.inputValue('[data-testid=config]');
const checkLines = (page) => page.$$eval('[data-testid=method-check] li', (lis) => lis.map((li) => li.textContent));
const globalFields = (page) => page.$$eval('[data-testid=param-fields] .param-field', (ls) => ls.map((l) => l.dataset.param));
const tableColumns = (page) => page.$$eval('#models-table thead th', (ths) => ths.slice(2).map((th) => th.textContent));
const setRole = (page, file, role) => page.selectOption(`tr[data-name="${file}"] [data-field=role]`, role);

test('page: every catalogue method is in the picker and in the method list, with its paper link, summary and formula', async () => {
  const methods = catalogue();
  assert.ok(methods.every((m) => m.formula && m.url), 'every catalogue entry has a formula and a paper');
  await withApp(async ({ page }) => {
    assert.deepStrictEqual(await page.$$eval('#method option', (os) => os.map((o) => [o.value, o.textContent, o.title])),
      methods.map((m) => [m.name, m.title, m.summary]));
    // Readable before choosing: the list shows each method as the about block shows the picked one.
    await page.click('[data-testid=method-list] summary');
    const entries = await page.$$eval('[data-testid=method-list] li.method-entry', (lis) => lis.map((li) => ({
      name: li.dataset.method, title: li.querySelector('a.method-title').textContent, url: li.querySelector('a.method-title').href,
      visible: li.offsetParent !== null, summary: li.querySelector('.method-summary').textContent,
      formula: li.querySelector('.method-formula code').textContent })));
    assert.deepStrictEqual(entries, methods.map((m) => ({ name: m.name, title: m.title, url: m.url, visible: true,
      summary: m.summary, formula: m.formula })));
    assert.strictEqual(await page.textContent('#method-count'), String(methods.length));
    // The picked one (the demo's ties), beside the picker, with how many models it takes.
    const ties = method('ties');
    assert.strictEqual(await page.getAttribute('[data-testid=method-about] a.method-title', 'href'), ties.url);
    assert.strictEqual(await page.textContent('[data-testid=method-about] .method-formula code'), ties.formula);
    assert.strictEqual(await page.textContent('[data-testid=method-about] .method-takes'), 'Takes a base and 1 or more other models.');
    // "Use this method" in the list picks it.
    const other = methods.find((m) => m.name !== 'ties');
    await page.click(`[data-testid=method-list] li[data-method="${other.name}"] button`);
    assert.strictEqual(await page.inputValue('#method'), other.name);
    assert.match(await yamlText(page), new RegExp(`^merge_method: ${other.name}$`, 'm'));
    assert.strictEqual(await page.textContent('[data-testid=method-about] a.method-title'), other.title);
  });
});

test('page: a model count the method does not take is said in the method card, and goes once it fits', async () => {
  const passthrough = method('passthrough');
  assert.strictEqual(passthrough.models.max, 1, 'a method taking one model');
  await withApp(async ({ page }) => {
    await DEMO_CONFIG(page);
    assert.deepStrictEqual(await checkLines(page), [], 'the demo config is fine as it is');
    await page.selectOption('#method', 'passthrough');
    assert.deepStrictEqual(await checkLines(page), [`${passthrough.title} merges exactly 1 model; 3 are set to Merge.`]);
    await setRole(page, 'code.safetensors', 'skip');
    await setRole(page, 'chat.safetensors', 'skip');
    assert.deepStrictEqual(await checkLines(page), []);
    assert.strictEqual(await page.isVisible('[data-testid=method-check]'), false);
    // A value out of range, as the engine words it, marks its cell.
    await page.selectOption('#method', 'ties');
    await page.fill('tr[data-name="math.safetensors"] [data-field=density]', '1.5');
    assert.deepStrictEqual(await checkLines(page), ["model 'math.safetensors': density 1.5 is outside (0, 1]"]);
    assert.strictEqual(await page.getAttribute('tr[data-name="math.safetensors"] [data-field=density]', 'aria-invalid'), 'true');
  });
});

test('page: switching to slerp makes a required global t field; its count, t and range are checked before a merge', async () => {
  const slerp = method('slerp');
  const t = slerp.params.find((p) => p.name === 't');
  assert.ok(t && t.scope === 'global' && t.required, 'slerp\'s t is a required global parameter');
  await withApp(async ({ page }) => {
    await DEMO_CONFIG(page);
    const before = await globalFields(page);
    await page.selectOption('#method', 'slerp');
    assert.deepStrictEqual(await globalFields(page), slerp.params.filter((p) => p.scope === 'global').map((p) => p.name));
    assert.notDeepStrictEqual(await globalFields(page), before, 'the fields were made again');
    assert.strictEqual(await page.getAttribute('.param-field[data-param=t] .param-name', 'data-required'), 'true');
    assert.strictEqual(await page.getAttribute('#param-t', 'placeholder'), 'required');
    assert.deepStrictEqual(await tableColumns(page), slerp.params.filter((p) => p.scope === 'model' && p.kind === 'number').map((p) => p.name));
    assert.deepStrictEqual(await checkLines(page), [`${slerp.title} merges a base and exactly 1 other model; 3 are set to Merge.`,
      `${slerp.title} requires t: give it a value.`]);
    await setRole(page, 'code.safetensors', 'skip');
    await setRole(page, 'chat.safetensors', 'skip');
    await page.fill('#param-t', '0.3');
    assert.deepStrictEqual(await checkLines(page), []);
    assert.match(await yamlText(page), /^parameters:\n\s+t: 0\.3$/m);
    if (t.max !== undefined) {
      await page.fill('#param-t', String(t.max + 0.5));
      assert.deepStrictEqual(await checkLines(page), [`parameters: t ${t.max + 0.5} is outside ${t.min_exclusive ? '(' : '['}${t.min}, ${t.max}]`]);
      assert.strictEqual(await page.getAttribute('#param-t', 'aria-invalid'), 'true');
      // The engine says the same (the plan under the config).
      await page.waitForFunction(() => document.querySelector('[data-testid=plan]').dataset.state === 'error', null, { timeout: 20000 });
      assert.ok((await page.textContent('[data-testid=plan-summary]')).includes(`t ${t.max + 0.5} is outside`));
    }
  });
});

test('page: switching to della gives each model an epsilon column, and its global fields', async () => {
  const della = method('della');
  const perModel = della.params.filter((p) => p.scope === 'model' && p.kind === 'number').map((p) => p.name);
  assert.ok(perModel.includes('epsilon'), 'della\'s epsilon is set per model');
  await withApp(async ({ page }) => {
    await DEMO_CONFIG(page);
    await page.selectOption('#method', 'della');
    assert.deepStrictEqual(await tableColumns(page), perModel);
    assert.deepStrictEqual(await globalFields(page), della.params.filter((p) => p.scope === 'global').map((p) => p.name));
    const epsilon = della.params.find((p) => p.name === 'epsilon');
    assert.strictEqual(await page.getAttribute('tr[data-name="code.safetensors"] [data-field=epsilon]', 'placeholder'), String(epsilon.default));
    await page.fill('tr[data-name="code.safetensors"] [data-field=epsilon]', '0.1');
    assert.match(await yamlText(page), /model: code\.safetensors\n\s+parameters: \{weight: 0\.8, density: 0\.5, epsilon: 0\.1\}/);
    // Back to ties: epsilon is not ties', so it goes, with its column.
    await page.selectOption('#method', 'ties');
    assert.doesNotMatch(await yamlText(page), /epsilon/);
    assert.ok(!(await tableColumns(page)).includes('epsilon'));
  });
});
