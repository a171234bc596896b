'use strict';
// sw.js's cache manifest (its APP list) against what the page loads: index.html's module
// script, stylesheets and import map, and from there every module import, dynamic
// import() and worker or module URL (new URL('…', import.meta.url)), followed file by
// file; plus the files the page fetches by name (the demos' manifests and what they list)
// and the engine's three files. A module left out of APP would be missing offline.
const fs = require('fs');
const path = require('path');
const { test, assert, ROOT } = require('../cli/harness');

const WEB = path.join(ROOT, 'web');
const rel = (abs) => path.relative(WEB, abs).split(path.sep).join('/');

function appList() {
  const text = fs.readFileSync(path.join(WEB, 'sw.js'), 'utf8');
  const list = text.slice(text.indexOf('const APP = ['), text.indexOf('];', text.indexOf('const APP = [')));
  return new Set([...list.matchAll(/'([^']+)'/g)].map((m) => m[1]));
}

// -> every file under web/ the page can load, as paths relative to web/
function loaded() {
  const html = fs.readFileSync(path.join(WEB, 'index.html'), 'utf8');
  const importMap = JSON.parse(html.match(/<script type="importmap">([\s\S]*?)<\/script>/)[1]).imports;
  const seen = new Set();
  const queue = [];
  seen.add('index.html');
  const add = (abs) => { if (!seen.has(rel(abs))) { seen.add(rel(abs)); queue.push(abs); } };
  for (const m of html.matchAll(/<(?:script[^>]*\bsrc|link[^>]*\bhref)="([^"]+)"/g)) add(path.join(WEB, m[1]));
  for (const target of Object.values(importMap)) add(path.join(WEB, target));
  while (queue.length) {
    const file = queue.shift();
    if (!file.endsWith('.js')) continue;
    const text = fs.readFileSync(file, 'utf8');
    const specifiers = [
      ...text.matchAll(/^\s*import\s+(?:[^'"]*?\s+from\s+)?'([^']+)'/gm),
      ...text.matchAll(/\bimport\('([^']+)'\)/g),
      ...text.matchAll(/new URL\('([^']+)', import\.meta\.url\)/g),
    ].map((m) => m[1]);
    for (const s of specifiers) {
      if (s.endsWith('/')) continue;  // a folder (the engine's): its files are listed below
      if (importMap[s]) add(path.join(WEB, importMap[s]));
      else if (s.startsWith('.')) add(path.resolve(path.dirname(file), s));
      else throw new Error(`${rel(file)}: '${s}' is neither relative nor in index.html's import map`);
    }
  }
  for (const dir of ['engine/']) for (const f of ['wasmerge.js', 'wasmerge.wasm', 'wasmerge.worker.js']) seen.add(dir + f);
  const demo = JSON.parse(fs.readFileSync(path.join(WEB, 'demo/demo.json'), 'utf8'));
  for (const f of ['demo.json', demo.config, ...demo.files]) seen.add(`demo/${f}`);
  const pg = JSON.parse(fs.readFileSync(path.join(WEB, 'demo/playground/playground.json'), 'utf8'));
  for (const f of ['playground.json', pg.base, ...pg.tasks.map((t) => t.file)]) seen.add(`demo/playground/${f}`);
  const lab = JSON.parse(fs.readFileSync(path.join(WEB, 'demo/lab/lab.json'), 'utf8'));
  for (const f of ['lab.json', ...lab.files]) seen.add(`demo/lab/${f}`);
  return seen;
}

test('sw.js: its cache manifest holds every file the page and its workers load, and nothing that is not there', () => {
  const app = appList();
  const needed = loaded();
  assert.ok(needed.size > 40 && needed.has('playground/worker_session.js') && needed.has('shared/job.js'),
    `the import graph looks too small (${needed.size} files): is the walk broken?`);
  assert.deepStrictEqual([...needed].filter((f) => !app.has(f)).sort(), [], 'loaded by the page, missing from sw.js APP');
  const gone = [...app].filter((f) => f !== './' && !needed.has(f)).sort();
  assert.deepStrictEqual(gone, [], 'in sw.js APP, loaded by nothing');
  for (const f of app) if (f !== './' && !f.startsWith('engine/') && !f.startsWith('vendor/')) assert.ok(fs.existsSync(path.join(WEB, f)), `${f} does not exist`);
});
