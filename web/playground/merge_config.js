// The mergekit config of a playground merge, from the controls' state and the method's
// entry in the engine's catalogue (what it takes: a base, a weight, a density, λ,
// rescaling). The page shows it as YAML (config_yaml.js), the same text scripts/wasmerge
// takes, so a student can rerun any merge on the command line next to web/demo/playground/.
import * as Methods from '../methods.js';

// The rescale control: the method's own default, each rescale_mode the method offers
// (rescaling on), or 'off'.
const DEFAULT = 'default';
const OFF = 'off';
function rescaleChoices(method) {
  const mode = Methods.param(method, 'rescale_mode');
  if (!Methods.has(method, 'rescale')) return [];
  return [DEFAULT, ...(mode ? mode.choices : []), OFF];
}

// state: {density, lambda, seed, rescale, models: [{name, weight}]} (the models to merge,
// in order); method: the catalogue entry -> the config (plain JSON)
function buildConfig(state, method, { baseFile = 'base.safetensors', fileOf = (name) => `${name}.safetensors` } = {}) {
  const config = { merge_method: method.name };
  if (method.needs_base) config.base_model = baseFile;
  config.models = state.models.map(({ name, weight }) => {
    const parameters = {};
    if (Methods.has(method, 'weight')) parameters.weight = Number(weight);
    if (Methods.has(method, 'density')) parameters.density = Number(state.density);
    return { model: fileOf(name), parameters };
  });
  const global = {};
  if (Methods.has(method, 'lambda')) global.lambda = Number(state.lambda);
  if (rescaleChoices(method).includes(state.rescale) && state.rescale !== DEFAULT) {
    global.rescale = state.rescale !== OFF;
    if (state.rescale !== OFF) global.rescale_mode = state.rescale;
  }
  if (Object.keys(global).length) config.parameters = global;
  // Only random drops read it; the catalogue does not say which methods make them.
  config.random_seed = Number(state.seed);
  return config;
}

export { buildConfig, rescaleChoices, DEFAULT, OFF };
