// What the engine would refuse in a config, said in the page before a merge: a missing
// base, a model count the method does not take, a required parameter left out, a value
// outside its range. The rules are the catalogue's (methods.js) and the engine's words
// (src/config.cpp) are kept where they fit, so the page and the engine say the same
// thing. The engine stays the judge: this only says it sooner, next to the method picker.
import * as Methods from './methods.js';

const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const own = (entry) => (isMap(entry) && isMap(entry.parameters) ? entry.parameters : {});

// Every number a parameter value holds: a scalar, a gradient's points, a filter list's values.
function numbersIn(v) {
  if (typeof v === 'number') return [v];
  if (typeof v === 'boolean') return [];
  if (Array.isArray(v)) return v.flatMap((x) => numbersIn(isMap(x) ? x.value : x));
  return [];
}

// params: a parameters map; owner: where it sits, as the engine names it ("parameters",
// "model './a'") -> [{message, param, model}] for values outside their range or choices.
function valueProblems(method, params, owner, model) {
  const out = [];
  for (const [name, value] of Object.entries(params)) {
    const p = Methods.param(method, name);
    if (!p) continue;
    if (p.kind === 'choice' && !(typeof value === 'string' && p.choices.includes(value))) {
      out.push({ message: `${owner}: ${name} must be ${p.choices.map((c) => `'${c}'`).join(' or ')}`, param: name, model });
      continue;
    }
    if (p.kind !== 'number') continue;
    const bad = numbersIn(value).find((v) => !Methods.inRange(p, v));
    if (bad !== undefined) out.push({ message: `${owner}: ${name} ${bad} is outside ${Methods.rangeText(p)}`, param: name, model });
  }
  return out;
}

// method: the catalogue entry of config.merge_method (null: nothing to check against);
// config: the parsed YAML -> [{message, param?, model?}], in the order to show them.
// model: the models entry's path, for per-model problems; param: the parameter at fault.
function checkConfig(method, config) {
  if (!method || !isMap(config)) return [];
  const out = [];
  const globals = isMap(config.parameters) ? config.parameters : {};
  out.push(...valueProblems(method, globals, 'parameters', null));
  // With slices the counts are per slice and the engine's plan says them (plan_preview.js).
  if (Array.isArray(config.slices)) return out;
  const hasBase = config.base_model !== undefined && config.base_model !== null;
  const merged = (Array.isArray(config.models) ? config.models : [])
    .filter((e) => isMap(e) && e.model !== undefined && !(hasBase && String(e.model) === String(config.base_model)));
  if (method.needs_base && !hasBase)
    out.push({ message: `${method.title} needs a base model (base_model): set one model's role to Base.` });
  if (!Methods.takes(method, merged.length)) {
    const set = merged.length === 1 ? '1 is' : `${merged.length} are`;
    out.push({ message: `${method.title} merges ${Methods.countText(method)}; ${set} set to Merge.` });
  }
  for (const p of method.params.filter((x) => x.required)) {
    if (p.name in globals) continue;
    if (p.scope === 'global') out.push({ message: `${method.title} requires ${p.name}: give it a value.`, param: p.name, model: null });
    else for (const e of merged) if (!(p.name in own(e))) out.push({ message: `model '${e.model}': parameter '${p.name}' is required by ${method.name}`, param: p.name, model: String(e.model) });
  }
  for (const e of merged) out.push(...valueProblems(method, own(e), `model '${e.model}'`, String(e.model)));
  return out;
}

export { checkConfig };
