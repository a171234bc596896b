'use strict';
// Small model families for the tests and scripts: a base and fine-tunes (base + delta), written
// as single files or folders, with a few layers named like a Llama/Qwen checkpoint.
const fs = require('fs');
const path = require('path');
const { writeSafetensors, rng, roundToGrid } = require('./st_io');

const SHAPES = [
  ['model.embed_tokens.weight', [13, 16]],
  ...[0, 1, 2, 3].flatMap((i) => [
    [`model.layers.${i}.self_attn.q_proj.weight`, [16, 16]],
    [`model.layers.${i}.mlp.up_proj.weight`, [24, 16]],
    [`model.layers.${i}.input_layernorm.weight`, [16]],
  ]),
  ['model.norm.weight', [16]],
  ['lm_head.weight', [13, 16]],
];

const count = (shape) => shape.reduce((a, b) => a * b, 1);

function baseValues(seed, dtype) {
  const r = rng(seed);
  return new Map(SHAPES.map(([name, shape]) => [name, Array.from({ length: count(shape) }, () => roundToGrid(dtype, r() * 2 - 1))]));
}

function fineTune(base, seed, dtype, scale = 0.05) {
  const r = rng(seed);
  return new Map([...base].map(([name, v]) => [name, v.map((x) => roundToGrid(dtype, x + (r() * 2 - 1) * scale))]));
}

function tensorsOf(values, dtype) {
  return SHAPES.map(([name, shape]) => ({ name, dtype, shape, values: values.get(name) }));
}

// Writes values as dir/name.safetensors, or as a folder dir/name/ (optionally in shards).
function writeModel(dir, name, values, dtype, { folder = false, shards = 1 } = {}) {
  const tensors = tensorsOf(values, dtype);
  if (!folder) {
    const file = path.join(dir, name + '.safetensors');
    writeSafetensors(file, tensors);
    return file;
  }
  const folderPath = path.join(dir, name);
  fs.mkdirSync(folderPath, { recursive: true });
  fs.writeFileSync(path.join(folderPath, 'config.json'),
    JSON.stringify({ architectures: ['LlamaForCausalLM'], hidden_size: 16, num_hidden_layers: 4, torch_dtype: 'bfloat16' }, null, 2));
  fs.writeFileSync(path.join(folderPath, 'tokenizer.json'), JSON.stringify({ model: name }));
  fs.writeFileSync(path.join(folderPath, 'tokenizer_config.json'), '{}');
  if (shards === 1) {
    writeSafetensors(path.join(folderPath, 'model.safetensors'), tensors);
    return folderPath;
  }
  const weightMap = {};
  const per = Math.ceil(tensors.length / shards);
  for (let s = 0; s < shards; s++) {
    const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const part = tensors.slice(s * per, (s + 1) * per);
    part.forEach((t) => { weightMap[t.name] = file; });
    writeSafetensors(path.join(folderPath, file), part);
  }
  fs.writeFileSync(path.join(folderPath, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  return folderPath;
}

// Large models for memory and fault tests: random bf16 bits (deterministic, xorshift32)
// with exponents kept in [2^-8, 2^-1), so no inf/NaN.
function randomBf16(n, seed) {
  const halves = new Uint16Array(n + (n % 2));
  const words = new Uint32Array(halves.buffer);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    words[i] = x;
  }
  for (let i = 0; i < n; i++) {
    const h = halves[i];
    halves[i] = (h & 0x807f) | ((119 + (h & 7)) << 7);
  }
  return Buffer.from(halves.buffer, 0, 2 * n);
}

// dir/model.safetensors from [[name, bf16 bytes]] tensors, all of one shape.
function writeBf16Folder(dir, tensors, shape) {
  fs.mkdirSync(dir, { recursive: true });
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors.map(([name, data]) => ({ name, dtype: 'BF16', shape, data })));
}

module.exports = { SHAPES, count, baseValues, fineTune, writeModel, randomBf16, writeBf16Folder };
