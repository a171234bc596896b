'use strict';
// Layer space (SPEC §5) through scripts/wasmerge: passthrough slices (depth up-scaling,
// layer removal, frankenmerges, scale, dtype changes), config.json's layer count and
// per-layer lists, TIES over slices, and every §5 error. Expectations come from
// layer_models.js's reading of the SPEC and the f64 references, never from engine output.
const fs = require('fs');
const path = require('path');
const { test, assert, scratchDir, wasmerge } = require('./harness');
const { readSafetensors } = require('../../scripts/lib/st_io');
const { referenceTies, toDtype, withinTolerance, gradient } = require('./reference');
const { GPT2, layeredTensors, fineTuned, writeLayered, expectedLayout, slicesYaml } = require('./layer_models');

const ENGINES = [[], ['--native']];

function merge(dir, yaml, out, flags = []) {
  fs.writeFileSync(path.join(dir, 'merge.yaml'), yaml);
  const r = wasmerge(['merge.yaml', out, ...flags], { cwd: dir });
  assert.strictEqual(r.status, 0, r.stderr);
  return path.join(dir, out);
}

// The output's tensors in file order must be exactly the expected names, each with the
// bytes (dtype, shape) of its one source.
function assertCopies(file, layout, models) {
  const { tensors, order } = readSafetensors(file);
  assert.deepStrictEqual(order, layout.map((e) => e.name), 'output tensors and their order');
  for (const e of layout) {
    const [src] = e.sources;
    const from = models.get(src.model).find((t) => t.name === src.name);
    const got = tensors.get(e.name);
    assert.strictEqual(got.dtype, from.dtype, e.name);
    assert.deepStrictEqual(got.shape, from.shape, e.name);
    const want = readSafetensors(models.get(src.model).file).tensors.get(src.name).bytes;
    assert.ok(got.bytes.equals(want), `${e.name}: not the bytes of ${src.model} ${src.name}`);
  }
}

// Writes each model (file or folder) and remembers its tensors and file.
function modelsIn(dir, specs) {
  const models = new Map();
  for (const [key, name, tensors, opts] of specs) {
    const written = writeLayered(dir, name, tensors, opts);
    tensors.file = opts && opts.config ? path.join(written, 'model.safetensors') : written;
    models.set(key, tensors);
  }
  return models;
}

// ---- (a) passthrough: which source tensor each output tensor is ------------------------

test('slices: SOLAR depth up-scaling [0,4] + [2,6] of a 6-layer bf16 folder: 8 layers, byte copies, wasm and native', () => {
  const dir = scratchDir('dus');
  const models = modelsIn(dir, [['./m', 'm', layeredTensors({ seed: 1 }), { config: { num_hidden_layers: 6, torch_dtype: 'bfloat16' } }]]);
  const slices = [{ sources: [{ model: './m', range: [0, 4] }] }, { sources: [{ model: './m', range: [2, 6] }] }];
  const layout = expectedLayout(slices, models);
  assert.strictEqual(layout.filter((e) => e.name.includes('layers.7.')).length, 3, 'the expectation has 8 layers');
  for (const [i, engine] of ENGINES.entries()) {
    const out = merge(dir, slicesYaml('passthrough', slices), `out${i}`, [...engine, '--threads', '2']);
    assertCopies(path.join(out, 'model.safetensors'), layout, models);
    const card = fs.readFileSync(path.join(out, 'README.md'), 'utf8');
    assert.match(card, /### Layer map/);
    assert.match(card, /output layers 0-3 ← \.\/m layers 0-3/);
    assert.match(card, /output layers 4-7 ← \.\/m layers 2-5/);
  }
});

test('slices: layer removal ([0,2] + [3,6] of an f32 file) drops layer 2 and renumbers the rest', () => {
  const dir = scratchDir('remove');
  const models = modelsIn(dir, [['./m.safetensors', 'm', layeredTensors({ dtype: 'F32', seed: 2 })]]);
  const slices = [{ sources: [{ model: './m.safetensors', range: [0, 2] }] }, { sources: [{ model: './m.safetensors', range: [3, 6] }] }];
  const layout = expectedLayout(slices, models);
  const out = merge(dir, slicesYaml('passthrough', slices), 'out', ['--memory-mb', '1']);
  assertCopies(path.join(out, 'model.safetensors'), layout, models);
  assert.ok(layout.some((e) => e.name === 'model.layers.2.mlp.up_proj.weight' && e.sources[0].name === 'model.layers.3.mlp.up_proj.weight'));
});

test('slices: a frankenmerge of two models: embeddings from the first slice, norm and lm_head from the last', () => {
  const dir = scratchDir('franken');
  const models = modelsIn(dir, [
    ['./a', 'a', layeredTensors({ seed: 3 }), { config: { name: 'A', num_hidden_layers: 6 } }],
    ['./b', 'b', layeredTensors({ seed: 4 }), { config: { name: 'B', num_hidden_layers: 6 } }],
  ]);
  const slices = [{ sources: [{ model: './a', range: [0, 3] }] }, { sources: [{ model: './b', range: [3, 6] }] }];
  const layout = expectedLayout(slices, models);
  assert.strictEqual(layout.find((e) => e.name === 'lm_head.weight').sources[0].model, './b');
  assert.strictEqual(layout.find((e) => e.name === 'model.embed_tokens.weight').sources[0].model, './a');
  const out = merge(dir, slicesYaml('passthrough', slices), 'out');
  assertCopies(path.join(out, 'model.safetensors'), layout, models);
  const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
  assert.strictEqual(config.name, 'A', 'config.json from the first slice\'s first source');
  assert.strictEqual(config.num_hidden_layers, 6);
});

test('slices: GPT-2 names (h.i., wte/wpe) in a file that lists ln_f first: pre-weights, layers, post-weights', () => {
  const dir = scratchDir('gpt2');
  const tensors = layeredTensors({ arch: GPT2, seed: 5, order: 'post-first' });
  assert.strictEqual(tensors[0].name, 'transformer.ln_f.weight');
  const models = modelsIn(dir, [['./g', 'g', tensors, { config: { n_layer: 6 } }]]);
  const slices = [{ sources: [{ model: './g', range: [1, 3] }] }, { sources: [{ model: './g', range: [0, 4] }] }];
  const layout = expectedLayout(slices, models);
  assert.deepStrictEqual(layout.slice(0, 2).map((e) => e.name), ['transformer.wte.weight', 'transformer.wpe.weight']);
  assert.strictEqual(layout[layout.length - 1].name, 'transformer.ln_f.weight');
  const out = merge(dir, slicesYaml('passthrough', slices), 'out', ['--native']);
  assertCopies(path.join(out, 'model.safetensors'), layout, models);
  assert.strictEqual(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).n_layer, 6);
});

// Values of a passthrough with scale s: f32(x) · f32(s), rounded to the output dtype.
function assertScaled(file, layout, models, scaleOf, outDtype) {
  const { tensors, order } = readSafetensors(file);
  assert.deepStrictEqual(order, layout.map((e) => e.name));
  for (const e of layout) {
    const [src] = e.sources;
    const from = models.get(src.model).find((t) => t.name === src.name);
    const s = Math.fround(scaleOf(e));
    const got = tensors.get(e.name);
    assert.strictEqual(got.dtype, outDtype || from.dtype, e.name);
    assert.deepStrictEqual(got.shape, from.shape, e.name);
    const dtype = outDtype || from.dtype;
    from.values.forEach((x, i) => {
      const want = toDtype(dtype, Math.fround(x * s));
      if (!Object.is(got.values[i], want))
        assert.fail(`${e.name}[${i}] (${src.name} × ${s}): got ${got.values[i]}, expected ${want}`);
    });
  }
}

test('slices: scale from the source, the slice (a gradient over the slice) and the global parameters', () => {
  const dir = scratchDir('scale');
  const models = modelsIn(dir, [['./m.safetensors', 'm', layeredTensors({ seed: 6 })]]);
  const slices = [
    { sources: [{ model: './m.safetensors', range: [0, 3] }], parameters: { scale: [2.0, 1.0] } },
    { sources: [{ model: './m.safetensors', range: [3, 4] }] },
    { sources: [{ model: './m.safetensors', range: [4, 6], parameters: { scale: 0.5 } }], parameters: { scale: 3.0 } },
  ];
  const layout = expectedLayout(slices, models);
  // source > slice > global; t = j/(n-1) within the slice; pre/post weights t = 0 with the
  // first/last slice's parameters.
  const scaleOf = (e) => [gradient([2.0, 1.0], e.t), 1.7, 0.5][e.slice];
  assert.deepStrictEqual(layout.filter((e) => /q_proj/.test(e.name)).map(scaleOf), [2, 1.5, 1, 1.7, 0.5, 0.5]);
  const out = merge(dir, slicesYaml('passthrough', slices, 'parameters: {scale: 1.7}\n'), 'out');
  assertScaled(path.join(out, 'model.safetensors'), layout, models, scaleOf);
});

test('slices: a per-model scale filter matches the input tensor name, a global one the output name', () => {
  const dir = scratchDir('filters');
  const models = modelsIn(dir, [['./m.safetensors', 'm', layeredTensors({ seed: 7 })]]);
  const slices = [
    { sources: [{ model: './m.safetensors', range: [2, 4], parameters: { scale: [{ filter: 'layers.2.', value: 4 }, { value: 1 }] } }] },
    { sources: [{ model: './m.safetensors', range: [0, 2] }] },
  ];
  const layout = expectedLayout(slices, models);
  // Output layer 0 <- input 2 (matched by the source's filter), output layer 3 <- input 1
  // (matched by the global filter on the output name); no other tensor is scaled.
  const scaleOf = (e) => (e.slice === 0 ? (e.sources[0].name.includes('layers.2.') ? 4 : 1) : e.name.includes('layers.3.') ? 0.25 : 1);
  assert.deepStrictEqual(layout.filter((e) => /q_proj/.test(e.name)).map(scaleOf), [4, 1, 1, 0.25]);
  const out = merge(dir, slicesYaml('passthrough', slices, 'parameters:\n  scale: [{filter: layers.3., value: 0.25}, {value: 1}]\n'), 'out');
  assertScaled(path.join(out, 'model.safetensors'), layout, models, scaleOf);
});

// f32 values exactly halfway between two bf16 values (the low 16 bits 0x8000), every
// third element: rounding them tests ties to even.
function withBf16Halfways(tensors) {
  const b = Buffer.alloc(4);
  for (const t of tensors) {
    t.values = t.values.map((v, i) => {
      if (i % 3) return v;
      b.writeFloatLE(v, 0);
      b.writeUInt32LE(((b.readUInt32LE(0) & 0xffff0000) | 0x8000) >>> 0, 0);
      return b.readFloatLE(0);
    });
  }
  return tensors;
}

// bf16 values f16 must round: halfway on its subnormal grid (quantum 2^-24), below half a
// quantum, and past its largest finite value (-> ±inf).
function withF16Edges(tensors) {
  const edges = [2 ** -25, 3 * 2 ** -25, 5 * 2 ** -25, -3 * 2 ** -25, 2 ** -30, -(2 ** -30), 65536, -131072, 7 * 2 ** -26];
  tensors[0].values.splice(0, edges.length, ...edges);
  return tensors;
}

test('slices: passthrough with a dtype change: f32 -> bfloat16 and bf16 -> out_dtype float16, rounded to nearest even', () => {
  const dir = scratchDir('dtype');
  const models = modelsIn(dir, [
    ['./f.safetensors', 'f', withBf16Halfways(layeredTensors({ dtype: 'F32', seed: 8 }))],
    ['./h.safetensors', 'h', withF16Edges(layeredTensors({ dtype: 'BF16', seed: 9 }))],
  ]);
  for (const [model, extra, dtype] of [['./f.safetensors', 'dtype: bfloat16\n', 'BF16'], ['./h.safetensors', 'out_dtype: float16\n', 'F16']]) {
    const slices = [{ sources: [{ model, range: [0, 4] }] }, { sources: [{ model, range: [2, 6] }] }];
    const out = merge(dir, slicesYaml('passthrough', slices, extra), `out-${dtype}`);
    assertScaled(path.join(out, 'model.safetensors'), expectedLayout(slices, models), models, () => 1, dtype);
  }
});

// ---- (b) config.json ----------------------------------------------------------------

test('slices: config.json gets the output layer count and its per-layer lists re-indexed through the layer map', () => {
  const dir = scratchDir('config');
  const donor = {
    architectures: ['Qwen2ForCausalLM'], hidden_size: 8, num_hidden_layers: 6, torch_dtype: 'float32',
    layer_types: ['t0', 't1', 't2', 't3', 't4', 't5'],
    max_window_layers: [10, 11, 12, 13, 14, 15],
    rope_factors: [1, 2, 3],
    quantization: { per_layer: ['q0', 'q1', 'q2', 'q3', 'q4', 'q5'] },
  };
  modelsIn(dir, [['./m', 'm', layeredTensors({ dtype: 'F32', seed: 10 }), { config: donor }]]);
  const slices = [{ sources: [{ model: './m', range: [0, 4] }] }, { sources: [{ model: './m', range: [2, 6] }] }];
  const out = merge(dir, slicesYaml('passthrough', slices, 'dtype: bfloat16\n'), 'out');
  const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
  const map = [0, 1, 2, 3, 2, 3, 4, 5];
  assert.deepStrictEqual(config, {
    ...donor,
    num_hidden_layers: 8,
    torch_dtype: 'bfloat16',
    layer_types: map.map((i) => donor.layer_types[i]),
    max_window_layers: map.map((i) => donor.max_window_layers[i]),
  });

  // GPT-2's own key: n_layer.
  modelsIn(dir, [['./g', 'g', layeredTensors({ arch: GPT2, seed: 11 }), { config: { n_layer: 6, layer_types: ['a', 'b', 'c', 'd', 'e', 'f'] } }]]);
  const removal = [{ sources: [{ model: './g', range: [0, 2] }] }, { sources: [{ model: './g', range: [4, 6] }] }];
  const gpt = JSON.parse(fs.readFileSync(path.join(merge(dir, slicesYaml('passthrough', removal), 'out-g'), 'config.json'), 'utf8'));
  assert.strictEqual(gpt.n_layer, 4);
  assert.deepStrictEqual(gpt.layer_types, ['a', 'b', 'e', 'f']);
});

// ---- (c) TIES over slices ------------------------------------------------------------

test('slices: TIES over two slices (base + two models, shifted ranges, per-slice densities) matches the f64 reference', () => {
  const dir = scratchDir('ties');
  const base = layeredTensors({ seed: 12 });
  const models = modelsIn(dir, [
    ['./base', 'base', base, { config: { num_hidden_layers: 6, layer_types: ['x0', 'x1', 'x2', 'x3', 'x4', 'x5'] } }],
    ['./a.safetensors', 'a', fineTuned(base, 13)],
    ['./b.safetensors', 'b', fineTuned(base, 14)],
  ]);
  const slices = [
    { sources: [
      { model: './base', range: [0, 3] },
      { model: './a.safetensors', range: [0, 3], parameters: { weight: 1.0, density: [0.3, 0.9] } },
      { model: './b.safetensors', range: [0, 3], parameters: { weight: 0.5, density: 0.5 } },
    ] },
    { sources: [
      { model: './base', range: [3, 6] },
      { model: './a.safetensors', range: [2, 5], parameters: { weight: 1.0, density: 0.6 } },
      { model: './b.safetensors', range: [3, 6], parameters: { weight: 0.5, density: 0.25 } },
    ] },
  ];
  const yaml = slicesYaml('ties', slices, 'base_model: ./base\nparameters: {lambda: 0.9}\n');
  const layout = expectedLayout(slices, models);
  const lookup = (src) => models.get(src.model).find((t) => t.name === src.name);
  for (const [i, engine] of ENGINES.entries()) {
    const out = merge(dir, yaml, `out${i}`, [...engine, '--threads', '2']);
    const { tensors, order } = readSafetensors(path.join(out, 'model.safetensors'));
    assert.deepStrictEqual(order, layout.map((e) => e.name));
    for (const e of layout) {
      const [b, a, bb] = e.sources.map(lookup);
      const params = slices[e.slice].sources.slice(1).map((s) => s.parameters);
      const ref = referenceTies({
        base: b.values,
        models: [a, bb].map((m, k) => ({ values: m.values, weight: params[k].weight, density: gradient(params[k].density, e.t) })),
        lambda: 0.9,
      });
      const got = tensors.get(e.name);
      assert.strictEqual(got.dtype, 'BF16', e.name);
      got.values.forEach((v, k) => {
        const scale = 4 * (Math.abs(b.values[k]) + Math.abs(a.values[k]) + Math.abs(bb.values[k]));
        if (!withinTolerance('BF16', v, ref[k], scale)) assert.fail(`${e.name}[${k}]: got ${v}, reference ${ref[k]}`);
      });
    }
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    assert.strictEqual(config.num_hidden_layers, 6);
    assert.deepStrictEqual(config.layer_types, ['x0', 'x1', 'x2', 'x3', 'x4', 'x5'], 'the base\'s list through the base\'s ranges');
  }
});

// ---- (d) SPEC §5 errors ----------------------------------------------------------------

// Exit 1, one `error:` line matching every pattern, no output folder, on both engines.
function expectError(dir, yaml, patterns) {
  fs.writeFileSync(path.join(dir, 'bad.yaml'), yaml);
  for (const engine of ENGINES) {
    const r = wasmerge(['bad.yaml', 'out', ...engine], { cwd: dir });
    assert.strictEqual(r.status, 1, `exit ${r.status}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.strictEqual(lines.length, 1, `one line expected:\n${r.stderr}`);
    assert.match(lines[0], /^error: /);
    for (const p of patterns) assert.match(lines[0], p);
    assert.ok(!fs.existsSync(path.join(dir, 'out')), `an output folder was left (${engine.join(' ') || 'wasm'})`);
  }
}

function errorModels(dir) {
  const base = layeredTensors({ seed: 20 });
  writeLayered(dir, 'm', base);
  writeLayered(dir, 'a', fineTuned(base, 21));
  // Same layers, but one template fewer in every layer.
  writeLayered(dir, 'c', fineTuned(base, 22).filter((t) => !/layers\.\d+\.mlp/.test(t.name)));
  // Only layer tensors: slices of no layers leave nothing to write.
  writeLayered(dir, 'bare', layeredTensors({ seed: 23, only: ['layers'] }));
}

const one = (model, range) => ({ sources: [{ model, range }] });

test('slices errors: a layer_range outside the model names the model and its 6 layers', () => {
  const dir = scratchDir('err-range');
  errorModels(dir);
  expectError(dir, slicesYaml('passthrough', [one('./m.safetensors', [0, 8])]), [/\.\/m\.safetensors/, /layer_range/, /\b6 layers\b/]);
  expectError(dir, slicesYaml('passthrough', [one('./m.safetensors', [0, 2]), one('./m.safetensors', [5, 7])]), [/\.\/m\.safetensors/, /\b6 layers\b/]);
});

test('slices errors: a layer_range that is not two integers 0 <= a <= b', () => {
  const dir = scratchDir('err-range-form');
  errorModels(dir);
  for (const range of [[4, 2], [-1, 2], [0.5, 2], [1, 2, 3], [3]])
    expectError(dir, slicesYaml('passthrough', [one('./m.safetensors', range)]), [/layer_range/, /\.\/m\.safetensors/]);
});

test('slices errors: sources of one slice with different layer counts, or different templates', () => {
  const dir = scratchDir('err-sources');
  errorModels(dir);
  const base = 'base_model: ./m.safetensors\n';
  expectError(dir, slicesYaml('ties', [{ sources: [
    { model: './m.safetensors', range: [0, 3] },
    { model: './a.safetensors', range: [0, 2], parameters: { weight: 1, density: 0.5 } },
  ] }], base), [/\.\/(a|m)\.safetensors/, /layer/]);
  expectError(dir, slicesYaml('ties', [{ sources: [
    { model: './m.safetensors', range: [0, 3] },
    { model: './c.safetensors', range: [0, 3], parameters: { weight: 1, density: 0.5 } },
  ] }], base), [/\.\/(c|m)\.safetensors/]);
});

test('slices errors: passthrough with two sources; models and slices together', () => {
  const dir = scratchDir('err-shape');
  errorModels(dir);
  expectError(dir, slicesYaml('passthrough', [{ sources: [
    { model: './m.safetensors', range: [0, 3] }, { model: './a.safetensors', range: [0, 3] },
  ] }]), [/passthrough/]);
  expectError(dir, slicesYaml('passthrough', [one('./m.safetensors', [0, 3])]) +
    'models:\n  - model: ./a.safetensors\n', [/models/, /slices/]);
});

test('slices errors: a source model that is not there; an output with no tensors', () => {
  const dir = scratchDir('err-missing');
  errorModels(dir);
  expectError(dir, slicesYaml('passthrough', [one('./m.safetensors', [0, 2]), one('./nope.safetensors', [0, 2])]), [/\.\/nope\.safetensors/]);
  expectError(dir, slicesYaml('passthrough', [one('./bare.safetensors', [0, 0])]), [/\.\/bare\.safetensors|empty|no tensors|nothing/i]);
});
