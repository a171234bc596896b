// The files the user picked, by the paths a config uses for them.
//
// A picked file is known by its folder-relative path ('base/model.safetensors' for a
// folder pick or drop, 'math.safetensors' for a loose file). When the user picks a
// folder that holds several models ('models/base/…', 'models/math.safetensors'), the
// paths also answer without that top folder ('base', 'math.safetensors'), because the
// YAML they paste was written next to those models. An alias that two files would share
// is dropped rather than guessed.
import { adapterFolders, inAdapter, offeredModels, resolveAdapted } from './adapters.js';

const SINGLE = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';

// 'a/./b//c' -> 'a/b/c'; leading './' and '/' go; '..' above the top gives null.
function normalizePath(p) {
  const out = [];
  for (const part of String(p).split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (!out.length) return null;
      out.pop();
    } else out.push(part);
  }
  return out.join('/');
}

const dirOf = (p) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const baseOf = (p) => p.slice(p.lastIndexOf('/') + 1);

// entries: [{path, file}] (file: a File, or anything with a size). Later picks of the
// same path replace earlier ones.
function buildFileTable(entries) {
  const byPath = new Map();
  for (const { path, file } of entries) {
    const p = normalizePath(path);
    if (p) byPath.set(p, file);
  }
  const modelFolders = new Set();
  for (const p of byPath.keys())  // a loose model.safetensors is a file model, not a folder
    if ((baseOf(p) === SINGLE || baseOf(p) === INDEX) && p.includes('/')) modelFolders.add(dirOf(p));

  // Top folders that are not models themselves hold models: what is inside answers
  // without the top folder too, unless that name is taken or shared.
  const holders = new Set([...byPath.keys()].filter((p) => p.includes('/')).map((p) => p.split('/')[0])
    .filter((top) => !modelFolders.has(top)));
  const stripTop = (p) => (p.includes('/') && holders.has(p.split('/')[0]) ? p.slice(p.indexOf('/') + 1) : p);
  const aliasOf = uniqueAliases([...byPath.keys()], stripTop);

  const adapterPaths = adapterFolders([...byPath.keys()]);
  const models = [];
  for (const folder of [...modelFolders].sort()) {
    const parts = [...byPath].filter(([p]) => dirOf(p) === folder && p.endsWith('.safetensors'));
    models.push({
      path: folder,
      kind: byPath.has((folder ? folder + '/' : '') + INDEX) ? 'sharded folder' : 'folder',
      bytes: parts.reduce((sum, [, f]) => sum + f.size, 0),
      parts: parts.map(([p]) => p),
    });
  }
  for (const [p, f] of [...byPath].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (p.endsWith('.safetensors') && !modelFolders.has(dirOf(p)) && !inAdapter(adapterPaths, p))
      models.push({ path: p, kind: 'file', bytes: f.size, parts: [p] });
  }
  const modelAlias = uniqueAliases(models.map((m) => m.path), stripTop);
  for (const m of models) m.name = modelAlias.get(m.path) || m.path || '.';
  const fileByAlias = new Map([...aliasOf].map(([full, alias]) => [alias, full]));
  const adapterAlias = uniqueAliases(adapterPaths, stripTop);
  const adapters = adapterPaths.map((folder) => ({
    path: folder,
    name: adapterAlias.get(folder) || folder,
    bytes: [...byPath].filter(([p]) => dirOf(p) === folder).reduce((sum, [, f]) => sum + f.size, 0),
  }));
  const plainModel = (p) => models.find((m) => m.path === p || m.name === p);

  return {
    // The File at a config path, or undefined.
    lookup(path) {
      const p = normalizePath(path);
      if (p === null) return undefined;
      return byPath.get(p) || byPath.get(fileByAlias.get(p));
    },
    // The model a config's `model:` names, or undefined.
    model(path) {
      const p = normalizePath(path);
      if (p === null) return undefined;
      return plainModel(p) || resolveAdapted(p, (q) => plainModel(normalizePath(q)), adapters, normalizePath);
    },
    // Whether two config paths name the same model: the same picked one, or the same path.
    sameModel(a, b) {
      const ma = this.model(String(a));
      return ma ? ma === this.model(String(b)) : normalizePath(String(a)) === normalizePath(String(b));
    },
    // The models the page offers: one picked model with adapters comes adapted too (adapters.js).
    models: offeredModels(models, adapters),
    adapters,
    // [path, file] for every path a config may use (what the worker needs).
    entries() {
      return [...byPath, ...[...fileByAlias].map(([alias, full]) => [alias, byPath.get(full)])];
    },
    size: byPath.size,
  };
}

// full path -> alias, for the aliases that differ from the path, are no one's real
// path, and belong to a single path.
function uniqueAliases(paths, aliasFn) {
  const real = new Set(paths);
  const count = new Map();
  for (const p of paths) count.set(aliasFn(p), (count.get(aliasFn(p)) || 0) + 1);
  const out = new Map();
  for (const p of paths) {
    const a = aliasFn(p);
    if (a !== p && !real.has(a) && count.get(a) === 1) out.set(p, a);
  }
  return out;
}

export { buildFileTable, normalizePath };
