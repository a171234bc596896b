// What the evaluation panel can score: the picked model folders (config.json beside the
// weights) and the merge just made, which stays in its zip in OPFS (result_view.js): its
// files are byte ranges of that zip, handed to the engine as Blob slices, never copied.
// Also which of the picked models a merge config took as its inputs.
import { outputFile } from './result_view.js';

const MERGE_FOLDER = 'merged';
const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const list = (v) => (Array.isArray(v) ? v : []);

// table: file_table.js's; merge: {output, entries, config} (what the result view shows), or
// null. -> [{id, name, folder, isMerge}]: folder is the path the job, the files and the
// engine's messages use; the merge's is 'merged' (unless a pick has that name).
function evalCandidates(table, merge) {
  const picked = table.models
    .filter((m) => m.kind !== 'file' && !m.adapter && table.lookup(`${m.path}/config.json`))
    .map((m) => ({ id: `picked:${m.path}`, name: m.name, folder: m.path, isMerge: false }));
  if (!merge || !isModel(merge.entries)) return picked;
  const folder = freeFolder(table);
  return [...picked, { id: `merge:${merge.output}`, name: folder, folder, isMerge: true }];
}

// A merge's output is a model when it wrote a config.json (merged from folders) and is
// no LoRA adapter (the extract mode's output).
function isModel(entries) {
  const names = new Set(entries.map((e) => e.name));
  return names.has('config.json') && !names.has('adapter_config.json');
}

// A folder name for the merge that no picked path uses.
function freeFolder(table) {
  const taken = (name) => table.entries().some(([p]) => p === name || p.startsWith(`${name}/`));
  let name = MERGE_FOLDER;
  for (let k = 2; taken(name); k++) name = `${MERGE_FOLDER}-${k}`;
  return name;
}

// [[path, Blob]] the engine may read for these candidates: the picks as they are, the
// merge's files under its folder.
async function evalFiles(table, merge, candidates) {
  const files = table.entries();
  const m = candidates.find((c) => c.isMerge);
  if (m) {
    const zip = await outputFile(merge.output);
    for (const e of merge.entries) files.push([`${m.folder}/${e.name}`, zip.slice(e.offset, e.offset + e.size)]);
  }
  return files;
}

// The model names a merge (or upcycling) config reads, in its order.
function configInputs(config) {
  if (!isMap(config)) return [];
  const names = [config.base_model];
  for (const m of list(config.models)) names.push(isMap(m) ? m.model : null);
  for (const s of list(config.slices)) for (const src of list(isMap(s) ? s.sources : null)) names.push(isMap(src) ? src.model : null);
  for (const e of [...list(config.experts), ...list(config.shared_experts)]) names.push(isMap(e) ? e.source_model : null);
  return names.filter((n) => typeof n === 'string' && n);
}

// The candidates a merge was made from (those among them that are picked folders) and the
// merge, in the panel's order: what "Compare with its inputs" evaluates.
function mergeAndInputs(table, candidates, config) {
  const ids = new Set();
  for (const name of configInputs(config)) {
    const model = table.model(name);
    // A LoRA-adapted input (model+adapter): the model the adapter was applied to.
    const folder = model && (model.adapter ? model.path.slice(0, -model.adapter.path.length - 1) : model.path);
    const c = candidates.find((x) => !x.isMerge && x.folder === folder);
    if (c) ids.add(c.id);
  }
  const merge = candidates.find((c) => c.isMerge);
  if (merge) ids.add(merge.id);
  return candidates.filter((c) => ids.has(c.id));
}

export { evalCandidates, evalFiles, mergeAndInputs, configInputs };
