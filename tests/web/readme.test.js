'use strict';
// The README's method table against the engine's catalogue (scripts/wasmerge
// --list-methods --json): every method has its line, with the base and model count the
// engine asks for and each parameter's default, so the docs cannot drift from the engine.
const fs = require('fs');
const path = require('path');
const { test, assert, ROOT } = require('../cli/harness');
const { catalogue } = require('../browser/catalogue');

// -> {name: {base, models, params: {name: default text}}} from the README's table
function readmeMethods() {
  const text = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = text.indexOf('| method | what it does | parameters (default) | base | models |');
  assert.ok(start >= 0, 'the README has its method table');
  const rows = text.slice(start).split('\n').slice(2);
  const out = {};
  for (const row of rows.slice(0, rows.findIndex((r) => !r.startsWith('|')))) {
    // Cells split at unescaped bars (a formula may hold \|δ\|).
    const cells = row.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim());
    const [name, , paramText, base, models] = cells;
    const like = paramText.match(/^as `(\w+)`/);
    const params = like ? { ...out[like[1]].params } : {};
    for (const m of paramText.matchAll(/`(\w+)` \(([^)]*)\)/g)) params[m[1]] = m[2];
    out[name.replace(/`/g, '')] = { base, models, params };
  }
  return out;
}

const modelsText = ({ min, max }) => (max === min ? `exactly ${min}` : max === null ? `${min} or more` : `${min} to ${max}`);
const defaultText = (p) => (p.required && p.default === null ? 'required' : String(p.default));
// int8_mask is said once under the table, for the family that accepts it.
const documented = (m) => m.params.filter((p) => p.name !== 'int8_mask');

test('README: every catalogue method has its line, with its base, model count and parameter defaults', () => {
  const readme = readmeMethods();
  for (const m of catalogue()) {
    const row = readme[m.name];
    assert.ok(row, `${m.name} has no line in the README's method table`);
    assert.strictEqual(row.base, m.needs_base ? 'yes' : m.takes_base ? 'optional' : 'no', `${m.name}: base`);
    assert.strictEqual(row.models, modelsText(m.models), `${m.name}: models`);
    assert.deepStrictEqual(Object.keys(row.params).sort(), documented(m).map((p) => p.name).sort(), `${m.name}: parameters`);
    for (const p of documented(m)) {
      const said = row.params[p.name];
      const same = p.kind === 'number' && p.default !== null ? Number(said) === p.default : said === defaultText(p);
      assert.ok(same, `${m.name}: ${p.name} (${said}) in the README, (${defaultText(p)}) in the engine`);
    }
  }
});
