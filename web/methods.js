// What the page asks of a method from the engine's catalogue (the describe job's
// 'methods' event, engine_queries.js): its parameters, how many models it takes, and what
// a config holds for it. The page and the playground read methods only through here.
const find = (methods, name) => (methods || []).find((m) => m.name === name) || null;
const param = (method, name) => (method && method.params.find((p) => p.name === name)) || null;
const has = (method, name) => Boolean(param(method, name));

// The numbers set per model (the models table's columns, the playground's sliders).
const modelParams = (method) => method.params.filter((p) => p.scope === 'model' && p.kind === 'number');

// Whether the method merges n models (passthrough takes exactly one).
const takes = (method, n) => n >= method.models.min && (method.models.max === null || n <= method.models.max);
// Whether it combines models at all, rather than passing one through.
const mergesSeveral = (method) => method.models.max === null || method.models.max >= 2;

// The parameters of a model that joins a merge: what the config must give and the
// method has no default for (a weight) starts at 1, full strength; the rest is left to
// the method's defaults, which the form shows as placeholders.
function startingParameters(method) {
  const out = {};
  for (const p of method.params) if (p.scope === 'model' && p.required && p.default === null && p.kind === 'number') out[p.name] = 1;
  return out;
}

// parameters (a config's map) without the keys this method does not take: they would be
// errors once the method changes. perModel: a model's own map (only per-model ones there).
function keepParameters(method, parameters, { perModel = false } = {}) {
  const out = {};
  for (const [k, v] of Object.entries(parameters || {})) {
    const p = param(method, k);
    if (p && (!perModel || p.scope === 'model')) out[k] = v;
  }
  return out;
}

// A default in words, for placeholders and hints.
function defaultText(p) {
  if (p.default === null || p.default === undefined) return '';
  if (p.kind === 'bool') return p.default ? 'yes' : 'no';
  return String(p.default);
}

export { find, param, has, modelParams, takes, mergesSeveral, startingParameters, keepParameters, defaultText };
