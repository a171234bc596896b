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

// Scratch folders of this run, removed at its end when every test passed (a failed run
// keeps them to look into): a full run makes ~100 of them, about 1 GB.
const scratchDirs = [];

function scratchDir(label) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `wasmerge-${label}-`));
  scratchDirs.push(dir);
  return dir;
}

function removeScratchDirs() {
  for (const dir of scratchDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
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
  if (failed === 0) removeScratchDirs();
  else if (scratchDirs.length) console.log(`kept ${scratchDirs.length} scratch folders: ${scratchDirs.join(' ')}`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0;
}

module.exports = { test, run, assert, scratchDir, wasmerge, safetensorsIn, ROOT };
