'use strict';
// The engine's method catalogue as scripts/wasmerge --list-methods --json prints it (the
// describe job the page asks too), read once per test run.
const path = require('path');
const { spawnSync } = require('child_process');
const { assert, ROOT } = require('../cli/harness');

let methods = null;
function catalogue() {
  if (!methods) {
    const r = spawnSync(path.join(ROOT, 'scripts/wasmerge'), ['--list-methods', '--json'], { encoding: 'utf8' });
    assert.strictEqual(r.status, 0, r.stderr);
    methods = JSON.parse(r.stdout);
  }
  return methods;
}

// One method's entry; a test naming a method the engine lacks fails here, saying so.
function method(name) {
  const m = catalogue().find((x) => x.name === name);
  assert.ok(m, `the engine's catalogue has no ${name} (scripts/wasmerge --list-methods)`);
  return m;
}

module.exports = { catalogue, method };
