// What the page asks of a method from the engine's catalogue (the describe job's
// 'methods' event, engine_queries.js): its parameters, how many models it takes, and what
// a config holds for it. The page and the playground read methods only through here.
const find = (methods, name) => (methods || []).find((m) => m.name === name) || null;
const param = (method, name) => (method && method.params.find((p) => p.name === name)) || null;
const has = (method, name) => Boolean(param(method, name));

// The numbers set per model (the models table's columns, the playground's sliders).
const modelParams = (method) => method.params.filter((p) => p.scope === 'model' && p.kind === 'number');
// The parameters set once for the whole merge (the form's fields).
const globalParams = (method) => method.params.filter((p) => p.scope === 'global');

// Whether the method merges n models besides the base (passthrough takes exactly one).
const takes = (method, n) => n >= method.models.min && (method.models.max === null || n <= method.models.max);
// Whether it uses a base_model: one it needs, or one it takes when the config names one
// (NuSLERP, Multi-SLERP: then it merges the task vectors). A catalogue without takes_base
// (an older engine) has no optional bases.
const takesBase = (method) => method.needs_base || Boolean(method.takes_base);
// Whether its result depends on more than one model: several merged ones, or a base and
// one (slerp). Passthrough, which takes one model and no base, only copies it.
const combines = (method) => takesBase(method) || method.models.max === null || method.models.max >= 2;

// How many models it takes, in words: "a base and exactly 1 other model", "2 or more models".
function countText(method) {
  const { min, max } = method.models;
  const n = max === min ? `exactly ${min}` : max === null ? `${min} or more` : `${min} to ${max}`;
  const noun = max === 1 ? 'model' : 'models';
  if (method.needs_base) return `a base and ${n} other ${noun}`;
  return takesBase(method) ? `${n} ${noun}, with or without a base` : `${n} ${noun}`;
}

// A parameter's range as the engine words it in its messages: [0, 1], (0, 1], [0, ∞].
function rangeText(p) {
  if (p.kind !== 'number' || (p.min === undefined && p.max === undefined)) return '';
  const num = (v, inf) => (v === undefined || v === null ? inf : String(v));
  return `${p.min_exclusive ? '(' : '['}${num(p.min, '-∞')}, ${num(p.max, '∞')}]`;
}
// Whether a number is in the parameter's range (a parameter without one takes any).
function inRange(p, v) {
  if (p.min !== undefined && p.min !== null && (p.min_exclusive ? !(v > p.min) : !(v >= p.min))) return false;
  return !(p.max !== undefined && p.max !== null && !(v <= p.max));
}

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

export { find, param, has, modelParams, globalParams, takes, takesBase, combines, countText, rangeText, inRange, startingParameters,
  keepParameters, defaultText };
