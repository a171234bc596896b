'use strict';
// Models with layers for the slice tests (SPEC §5), and the test's own, independent answer
// to "which source tensor does each output tensor come from".
const fs = require('fs');
const path = require('path');
const { writeSafetensors, rng, roundToGrid } = require('../../scripts/lib/st_io');

// Tensor names by architecture: '#' is the layer index. pre/post: the non-layer tensors.
const LLAMA = {
  pre: [['model.embed_tokens.weight', [11, 8]]],
  layer: [
    ['model.layers.#.self_attn.q_proj.weight', [8, 8]],
    ['model.layers.#.mlp.up_proj.weight', [12, 8]],
    ['model.layers.#.input_layernorm.weight', [8]],
  ],
  post: [['model.norm.weight', [8]], ['lm_head.weight', [11, 8]]],
  layerKey: 'num_hidden_layers',
};
const GPT2 = {
  pre: [['transformer.wte.weight', [11, 8]], ['transformer.wpe.weight', [16, 8]]],
  layer: [['transformer.h.#.attn.c_attn.weight', [8, 24]], ['transformer.h.#.ln_1.weight', [8]]],
  post: [['transformer.ln_f.weight', [8]]],
  layerKey: 'n_layer',
};

const count = (shape) => shape.reduce((a, b) => a * b, 1);

// [{name, dtype, shape, values}] in file order: pre, layers, post ('natural'), or post
// first ('post-first'), every tensor its own random values on the dtype's grid.
function layeredTensors({ arch = LLAMA, layers = 6, dtype = 'BF16', seed = 1, order = 'natural', only = null }) {
  const layerTensors = [];
  for (let i = 0; i < layers; i++) for (const [n, shape] of arch.layer) layerTensors.push([n.replace('#', i), shape]);
  const groups = { pre: arch.pre, layers: layerTensors, post: arch.post };
  const sequence = (order === 'post-first' ? ['post', 'pre', 'layers'] : ['pre', 'layers', 'post'])
    .filter((g) => !only || only.includes(g));
  const r = rng(seed);
  return sequence.flatMap((g) => groups[g]).map(([name, shape]) => ({
    name, dtype, shape, values: Array.from({ length: count(shape) }, () => roundToGrid(dtype, r() * 2 - 1)),
  }));
}

// A fine-tune: every value moved by up to ±scale, on the grid.
function fineTuned(tensors, seed, scale = 0.1) {
  const r = rng(seed);
  return tensors.map((t) => ({ ...t, values: t.values.map((x) => roundToGrid(t.dtype, x + (r() * 2 - 1) * scale)) }));
}

// dir/name.safetensors, or a folder dir/name/ with model.safetensors, config.json (when
// given) and a tokenizer.json. Returns the path written.
function writeLayered(dir, name, tensors, { config = null } = {}) {
  if (!config) {
    const file = path.join(dir, name + '.safetensors');
    writeSafetensors(file, tensors);
    return file;
  }
  const folder = path.join(dir, name);
  fs.mkdirSync(folder, { recursive: true });
  writeSafetensors(path.join(folder, 'model.safetensors'), tensors);
  fs.writeFileSync(path.join(folder, 'config.json'), JSON.stringify(config, null, 2));
  fs.writeFileSync(path.join(folder, 'tokenizer.json'), JSON.stringify({ model: name }));
  return folder;
}

// SPEC §5, written from its text: layer markers, pre-weights (embed, wte, wpe) from the
// first slice's sources, layers renumbered by a running counter in slice order (every
// template of the source layer, in the source's order), post-weights from the last slice.
const MARKER = /(^|\.)(layers|h|blocks|layer)\.(\d+)\./;

function layerOf(name) {
  const m = MARKER.exec(name);
  return m ? Number(m[3]) : null;
}

function renumber(name, layer) {
  return name.replace(MARKER, (all, lead, word) => `${lead}${word}.${layer}.`);
}

const isPre = (name) => /embed|wte|wpe/.test(name);

// slices: [{sources: [{model, range: [a, b]}], ...}]; models: Map(model -> tensors in file
// order). -> [{name, sources: [{model, name}], slice (index), j, n, t}] in output order:
// t = j/(n-1) in a slice of n layers (1 when n = 1); pre- and post-weights t = 0 with the
// first / last slice.
function expectedLayout(slices, models) {
  const out = [];
  const nonLayer = (model, pre) => models.get(model).filter((t) => layerOf(t.name) === null && isPre(t.name) === pre);
  const edge = (index, pre) => {
    const sources = slices[index].sources;
    for (const t of nonLayer(sources[0].model, pre))
      out.push({ name: t.name, sources: sources.map((s) => ({ model: s.model, name: t.name })), slice: index, j: 0, n: 1, t: 0 });
  };
  edge(0, true);
  let o = 0;
  slices.forEach((slice, index) => {
    const lead = slice.sources[0];
    const n = lead.range[1] - lead.range[0];
    for (let j = 0; j < n; j++, o++) {
      for (const t of models.get(lead.model).filter((x) => layerOf(x.name) === lead.range[0] + j)) {
        out.push({
          name: renumber(t.name, o),
          sources: slice.sources.map((s) => ({ model: s.model, name: renumber(t.name, s.range[0] + j) })),
          slice: index, j, n, t: n > 1 ? j / (n - 1) : 1,
        });
      }
    }
  });
  edge(slices.length - 1, false);
  return out;
}

// The YAML of a slices config. slices: [{sources: [{model, range, parameters?}], parameters?}]
function slicesYaml(method, slices, extra = '') {
  const lines = [`merge_method: ${method}`, 'slices:'];
  for (const slice of slices) {
    lines.push('  - sources:');
    for (const s of slice.sources) {
      lines.push(`      - model: ${s.model}`, `        layer_range: ${JSON.stringify(s.range)}`);
      if (s.parameters) lines.push(`        parameters: ${JSON.stringify(s.parameters)}`);
    }
    if (slice.parameters) lines.push(`    parameters: ${JSON.stringify(slice.parameters)}`);
  }
  return lines.join('\n') + '\n' + extra;
}

module.exports = { LLAMA, GPT2, layeredTensors, fineTuned, writeLayered, expectedLayout, slicesYaml, layerOf, renumber };
