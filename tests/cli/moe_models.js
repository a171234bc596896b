'use strict';
// Models for the upcycling tests (SPEC §7): small but whole Llama checkpoints (every tensor a
// forward pass reads, a config.json that gives its shapes) with a tiny BPE tokenizer whose
// ids are worked out by hand in tests/web/prompt_tokens.test.js; and the tests' own reading
// of the spec's random routers (the counter generator), to compare the engine's with.
const fs = require('fs');
const path = require('path');
const { writeSafetensors, rng, roundToGrid } = require('../../scripts/lib/st_io');

// ids: <s> 0, </s> 1, <unk> 2, a 3, b 4, c 5, d 6, e 7, f 8, ab 9, cd 10, abcd 11, ef 12.
// merges by rank: (a b) 0, (c d) 1, (ab cd) 2, (e f) 3; words split at whitespace.
const special = (id, content) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
const TINY_TOKENIZER = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [special(0, '<s>'), special(1, '</s>'), special(2, '<unk>')],
  normalizer: null,
  pre_tokenizer: { type: 'WhitespaceSplit' },
  post_processor: null,
  decoder: null,
  model: {
    type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null,
    fuse_unk: false, byte_fallback: false,
    vocab: { '<s>': 0, '</s>': 1, '<unk>': 2, a: 3, b: 4, c: 5, d: 6, e: 7, f: 8, ab: 9, cd: 10, abcd: 11, ef: 12 },
    merges: ['a b', 'c d', 'ab cd', 'e f'],
  },
};
const TINY_TOKENIZER_CONFIG = { bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>', add_bos_token: true };

const DIMS = { hidden: 16, intermediate: 24, heads: 4, kvHeads: 2, layers: 2, vocab: 13 };
const MLP = ['gate_proj', 'up_proj', 'down_proj'];

function llamaShapes({ hidden, intermediate, heads, kvHeads, layers, vocab }) {
  const kv = (hidden / heads) * kvHeads;
  const out = [['model.embed_tokens.weight', [vocab, hidden]]];
  for (let i = 0; i < layers; i++) {
    const p = `model.layers.${i}.`;
    out.push([`${p}self_attn.q_proj.weight`, [hidden, hidden]], [`${p}self_attn.k_proj.weight`, [kv, hidden]],
      [`${p}self_attn.v_proj.weight`, [kv, hidden]], [`${p}self_attn.o_proj.weight`, [hidden, hidden]],
      [`${p}mlp.gate_proj.weight`, [intermediate, hidden]], [`${p}mlp.up_proj.weight`, [intermediate, hidden]],
      [`${p}mlp.down_proj.weight`, [hidden, intermediate]],
      [`${p}input_layernorm.weight`, [hidden]], [`${p}post_attention_layernorm.weight`, [hidden]]);
  }
  out.push(['model.norm.weight', [hidden]], ['lm_head.weight', [vocab, hidden]]);
  return out;
}

function llamaConfig({ hidden, intermediate, heads, kvHeads, layers, vocab }) {
  return {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: hidden, intermediate_size: intermediate,
    num_attention_heads: heads, num_key_value_heads: kvHeads, num_hidden_layers: layers, vocab_size: vocab,
    rms_norm_eps: 1e-5, rope_theta: 10000.0, max_position_embeddings: 64, hidden_act: 'silu', tie_word_embeddings: false,
    bos_token_id: 0, eos_token_id: 1, torch_dtype: 'bfloat16',
  };
}

// dir/name/: model.safetensors (BF16; norms near 1, weights in ±0.5), config.json, the tiny
// tokenizer (tokenizer: false leaves it out). seed picks the values.
function writeLlama(dir, name, { seed = 1, dims = DIMS, tokenizer = true } = {}) {
  const folder = path.join(dir, name);
  fs.mkdirSync(folder, { recursive: true });
  const r = rng(seed);
  const tensors = llamaShapes(dims).map(([tensor, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const norm = tensor.endsWith('norm.weight');
    return { name: tensor, dtype: 'BF16', shape,
      values: Array.from({ length: n }, () => roundToGrid('BF16', norm ? 1 + (r() - 0.5) * 0.2 : (r() * 2 - 1) * 0.5)) };
  });
  writeSafetensors(path.join(folder, 'model.safetensors'), tensors);
  fs.writeFileSync(path.join(folder, 'config.json'), JSON.stringify(llamaConfig(dims), null, 2));
  if (tokenizer) {
    fs.writeFileSync(path.join(folder, 'tokenizer.json'), JSON.stringify(TINY_TOKENIZER));
    fs.writeFileSync(path.join(folder, 'tokenizer_config.json'), JSON.stringify(TINY_TOKENIZER_CONFIG));
  }
  return folder;
}

// ---- SPEC §7's random routers, from its text: the counter generator of §2 ----
const M64 = (1n << 64n) - 1n;
function splitmix64(x) {
  let z = (x + 0x9E3779B97F4A7C15n) & M64;
  z = ((z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94D049BB133111EBn) & M64;
  return z ^ (z >> 31n);
}
function fnv1a64(text) {
  let h = 0xCBF29CE484222325n;
  for (const byte of Buffer.from(text, 'utf8')) h = ((h ^ BigInt(byte)) * 0x100000001B3n) & M64;
  return h;
}
// The uniforms U_i of tensor NAME's stream under seed, i = 0 … n-1.
function uniforms(name, seed, n) {
  const s = splitmix64(BigInt(seed) ^ splitmix64(fnv1a64(name)));
  return Array.from({ length: n }, (_, i) => Number(splitmix64((s + BigInt(i)) & M64) >> 11n) * 2 ** -53 + 2 ** -54);
}
// `random`: Z_i = sqrt(-2 ln U_2i) cos(2π U_2i+1), in f64 (JS's log and cos: within an ulp of the
// engine's own, which the bf16 rounding hides).
function normalRouter(name, seed, n) {
  const u = uniforms(name, seed, 2 * n);
  return Array.from({ length: n }, (_, i) => Math.sqrt(-2 * Math.log(u[2 * i])) * Math.cos(2 * Math.PI * u[2 * i + 1]));
}

module.exports = { TINY_TOKENIZER, TINY_TOKENIZER_CONFIG, DIMS, MLP, writeLlama, llamaShapes, normalRouter, uniforms, splitmix64, fnv1a64 };
