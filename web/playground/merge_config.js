// The mergekit config of a playground merge, from the controls' state: the object the
// engine gets and the YAML text the page shows (the same text scripts/wasmerge takes, so
// a student can rerun any merge on the command line next to web/demo/playground/).
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.wasmergeMergeConfig = factory();
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  // What each method's config takes: a base model, a density, λ, a random seed and
  // rescaling (DARE's drops only).
  const METHODS = [
    { id: 'linear', title: 'Linear (average)', base: false, density: false, lambda: false, random: false },
    { id: 'task_arithmetic', title: 'Task arithmetic', base: true, density: false, lambda: true, random: false },
    { id: 'ties', title: 'TIES', base: true, density: true, lambda: true, random: false },
    { id: 'dare_linear', title: 'DARE (linear)', base: true, density: true, lambda: true, random: true },
    { id: 'dare_ties', title: 'DARE + TIES', base: true, density: true, lambda: true, random: true },
  ];
  const method = (id) => METHODS.find((m) => m.id === id);

  // rescale: 'default' (the method's: mergekit's L1 match for DARE), 'inverse_density'
  // (the DARE paper's 1/density) or 'off'. Only DARE methods rescale by default.
  const RESCALES = ['default', 'inverse_density', 'off'];

  const num = (x) => String(Number(x));  // 1 -> "1", 0.35 -> "0.35": YAML and JSON agree

  // state: {method, density, lambda, seed, rescale, models: [{name, weight}]} (the models
  // to merge, in order) -> {config (plain JSON), text (YAML)}
  function buildConfig(state, { baseFile = 'base.safetensors', fileOf = (name) => `${name}.safetensors` } = {}) {
    const m = method(state.method);
    if (!m) throw new Error(`unknown method '${state.method}'`);
    const config = { merge_method: m.id };
    const lines = [`merge_method: ${m.id}`];
    if (m.base) {
      config.base_model = baseFile;
      lines.push(`base_model: ${baseFile}`);
    }
    config.models = [];
    lines.push('models:');
    for (const { name, weight } of state.models) {
      const parameters = { weight: Number(weight) };
      if (m.density) parameters.density = Number(state.density);
      config.models.push({ model: fileOf(name), parameters });
      const text = Object.entries(parameters).map(([k, v]) => `${k}: ${num(v)}`).join(', ');
      lines.push(`  - model: ${fileOf(name)}`, `    parameters: {${text}}`);
    }
    const global = {};
    if (m.lambda) global.lambda = Number(state.lambda);
    if (m.random && state.rescale === 'inverse_density') global.rescale_mode = 'inverse_density';
    if (m.random && state.rescale === 'off') global.rescale = false;
    if (Object.keys(global).length) {
      config.parameters = global;
      lines.push(`parameters: {${Object.entries(global).map(([k, v]) => `${k}: ${typeof v === 'number' ? num(v) : v}`).join(', ')}}`);
    }
    if (m.random) {
      config.random_seed = Number(state.seed);
      lines.push(`random_seed: ${num(state.seed)}`);
    }
    return { config, text: lines.join('\n') + '\n' };
  }

  return { METHODS, RESCALES, method, buildConfig };
});
