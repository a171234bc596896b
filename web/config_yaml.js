// A config object as mergekit YAML, written the way its examples are: keys in the order
// people write them, each model's parameters on one line, each slice source on one line.
// The form (config_form.js) and the playground (playground/merge_config.js) both write
// their YAML here.
import yaml from 'js-yaml';

// An upcycling config (mergekit-moe) as its examples have it: the choices first, the experts last.
const KEY_ORDER = ['merge_method', 'base_model', 'architecture', 'gate_mode', 'experts_per_token', 'models', 'slices', 'parameters',
  'dtype', 'out_dtype', 'random_seed', 'experts', 'shared_experts'];

// The config with its keys in that order (keys it does not list follow, as they came).
function ordered(config) {
  const out = {};
  for (const k of KEY_ORDER) if (k in config) out[k] = config[k];
  for (const k of Object.keys(config)) if (!(k in out)) out[k] = config[k];
  return out;
}

// Key by key: models[i].parameters (depth 3) in flow style, slices[i].sources[j] (depth 4),
// experts[i].positive_prompts (depth 3).
function dumpConfig(config) {
  return Object.entries(ordered(config)).map(([k, v]) =>
    yaml.dump({ [k]: v }, { flowLevel: k === 'slices' ? 4 : 3, lineWidth: -1, noRefs: true })).join('');
}

// A value on one line: 1, [0.2, 0.8, 1], [{filter: mlp, value: 0.3}].
const inline = (v) => (v === undefined ? '' : typeof v === 'object' ? yaml.dump(v, { flowLevel: 0, lineWidth: -1 }).trim() : String(v));

export { ordered, dumpConfig, inline };
