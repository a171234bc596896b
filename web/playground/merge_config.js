// The mergekit config of a playground merge, from the controls' state and the method's
// entry in the engine's catalogue (what it takes: a base, a weight, a density, λ,
// rescaling, and whatever else it reads: SLERP's t, DELLA's epsilon...). The page shows it as YAML (config_yaml.js), the same text scripts/wasmerge
// takes, so a student can rerun any merge on the command line next to web/demo/playground/.
import * as Methods from '../methods.js';

// The rescale control: the method's own default, each rescale_mode the method offers
// (rescaling on), or 'off'.
const DEFAULT = 'default';
const OFF = 'off';
// The parameters with a control of their own (a slider per task for the weight, the
// density and λ sliders, the rescale select); param_controls.js makes the others'.
const OWN_CONTROLS = ['weight', 'density', 'lambda', 'rescale', 'rescale_mode'];
function rescaleChoices(method) {
  const mode = Methods.param(method, 'rescale_mode');
  if (!Methods.has(method, 'rescale')) return [];
  return [DEFAULT, ...(mode ? mode.choices : []), OFF];
}

// The parameters without a control of their own (param_controls.js makes theirs).
const controlled = (method) => method.params.filter((p) => !OWN_CONTROLS.includes(p.name));

// Where such a control starts: the method's default; a required number without one starts
// in the middle of its range ([0, 1] where the catalogue gives no bound: SLERP's t).
function startValue(p) {
  if (p.default !== null && p.default !== undefined) return p.default;
  if (p.kind === 'bool') return false;
  if (p.kind === 'choice') return p.choices[0];
  const lo = Number.isFinite(p.min) ? p.min : 0;
  const hi = Number.isFinite(p.max) ? p.max : Math.max(lo + 1, 1);
  return (lo + hi) / 2;
}

// {name: value} of every controlled parameter of the method: the given value, else its start.
function valuesFor(method, values = {}) {
  return Object.fromEntries(controlled(method).map((p) => [p.name, p.name in values ? values[p.name] : startValue(p)]));
}

// state: {density, lambda, seed, rescale, models: [{name, weight}] (the models to merge,
// in order), values: {name: value} (the other parameters' controls)}; method: the
// catalogue entry -> the config (plain JSON). Numbers are always written, so the config
// shows what the merge used; a bool or a choice only where it is not the method's default.
function buildConfig(state, method, { baseFile = 'base.safetensors', fileOf = (name) => `${name}.safetensors` } = {}) {
  const config = { merge_method: method.name };
  const others = Object.entries(valuesFor(method, state.values))
    .filter(([k, v]) => Methods.param(method, k).kind === 'number' || v !== Methods.param(method, k).default);
  // A base the method may take is given: the fine-tunes' task vectors are what the demo is about.
  if (Methods.takesBase(method)) config.base_model = baseFile;
  config.models = state.models.map(({ name, weight }) => {
    const parameters = {};
    if (Methods.has(method, 'weight')) parameters.weight = Number(weight);
    if (Methods.has(method, 'density')) parameters.density = Number(state.density);
    for (const [k, v] of others) if (Methods.param(method, k).scope === 'model') parameters[k] = v;
    return Object.keys(parameters).length ? { model: fileOf(name), parameters } : { model: fileOf(name) };
  });
  const global = {};
  if (Methods.has(method, 'lambda')) global.lambda = Number(state.lambda);
  for (const [k, v] of others) if (Methods.param(method, k).scope === 'global') global[k] = v;
  if (rescaleChoices(method).includes(state.rescale) && state.rescale !== DEFAULT) {
    global.rescale = state.rescale !== OFF;
    if (state.rescale !== OFF) global.rescale_mode = state.rescale;
  }
  if (Object.keys(global).length) config.parameters = global;
  // Only random drops read it; the catalogue does not say which methods make them.
  config.random_seed = Number(state.seed);
  return config;
}

export { buildConfig, rescaleChoices, controlled, startValue, valuesFor, DEFAULT, OFF, OWN_CONTROLS };
