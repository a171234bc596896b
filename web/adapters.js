// PEFT LoRA adapter folders among the picked files (SPEC §8): a folder holding
// adapter_config.json is an adapter, not a model (its adapter_model.safetensors is not
// listed as one). A config names an adapted model `model+adapter`; when the pick holds one
// model and adapters, the page offers the model with each adapter merged in, so the config
// it writes says `model+adapter`.
const ADAPTER_CONFIG = 'adapter_config.json';

const dirOf = (p) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const baseOf = (p) => p.slice(p.lastIndexOf('/') + 1);

// paths: every picked path. -> the adapter folders, sorted.
function adapterFolders(paths) {
  return [...new Set(paths.filter((p) => baseOf(p) === ADAPTER_CONFIG).map(dirOf))].sort();
}

// Whether a picked file belongs to an adapter folder (and so is no model of its own).
const inAdapter = (folders, p) => folders.includes(dirOf(p));

// models: the file table's models; adapters: [{path, name, bytes}]. -> the models the page
// offers: the one model with each adapter, then the model itself; else the models as they are.
function offeredModels(models, adapters) {
  if (models.length !== 1 || !adapters.length) return models;
  const [m] = models;
  return [...adapters.map((a) => adaptedModel(m, a)), m];
}

const adapted = new WeakMap();  // model -> adapter -> the adapted model: one object per pair

function adaptedModel(model, adapter) {
  if (!adapted.has(model)) adapted.set(model, new Map());
  const byAdapter = adapted.get(model);
  if (!byAdapter.has(adapter)) {
    byAdapter.set(adapter, { ...model, name: `${model.name}+${adapter.name}`, path: `${model.path}+${adapter.path}`,
      kind: `${model.kind} + LoRA`, bytes: model.bytes + adapter.bytes, adapter });
  }
  return byAdapter.get(adapter);
}

// A config path `a+b` whose a is a picked model (find(a)) and b a picked adapter; the
// first '+' that splits so, as the engine reads it. -> the adapted model, or undefined.
function resolveAdapted(path, find, adapters, normalize) {
  for (let i = path.indexOf('+'); i > 0; i = path.indexOf('+', i + 1)) {
    const model = find(path.slice(0, i));
    const name = normalize(path.slice(i + 1));
    const adapter = adapters.find((a) => a.path === name || a.name === name);
    if (model && adapter) return adaptedModel(model, adapter);
  }
  return undefined;
}

export { adapterFolders, inAdapter, offeredModels, resolveAdapted };
