'use strict';
// A minimal test harness: test(name, fn) registers, run() runs them in order and prints
// one line per test and a final "N passed, N failed".
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '../..');
const tests = [];

function test(name, fn) {
  tests.push({ name, fn });
}

function scratchDir(label) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `wasmerge-${label}-`));
}

// Runs scripts/wasmerge in cwd; returns { status, stderr, stdout }.
function wasmerge(args, { cwd }) {
  const r = spawnSync(path.join(ROOT, 'scripts/wasmerge'), args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

function safetensorsIn(dir) {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.safetensors')) : [];
}

async function run(filter) {
  let passed = 0;
  let failed = 0;
  for (const t of tests) {
    if (filter && !t.name.includes(filter)) continue;
    const started = Date.now();
    try {
      await t.fn();
      passed++;
      console.log(`ok   ${t.name} (${Date.now() - started} ms)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${t.name}\n     ${String(e.stack || e).split('\n').slice(0, 6).join('\n     ')}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0;
}

module.exports = { test, run, assert, scratchDir, wasmerge, safetensorsIn, ROOT };
