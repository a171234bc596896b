'use strict';
// Upcycling to a mixture of experts through scripts/wasmerge (SPEC §7): a mergekit-moe YAML
// (experts:, no merge_method) of small Llama folders. Checked against the tests' own
// reading of the spec: Mixtral's tensor names and config.json, each expert's MLP its
// source's, random routers from the counter generator, cheap_embed routers from the
// embedding rows of the hand-worked token ids (so the CLI's prompt_tokens reach the engine
// right), hidden-state routers of unit rows; wasm and native the same bytes.
const fs = require('fs');
const path = require('path');
const { test, assert, scratchDir, wasmerge } = require('./harness');
const { readSafetensors, roundToGrid } = require('../../scripts/lib/st_io');
const { DIMS, writeLlama, normalRouter } = require('./moe_models');

// base + three fine-tunes (other values), each a folder with the tiny tokenizer.
function family(label) {
  const dir = scratchDir(label);
  ['base', 'ft1', 'ft2', 'ft3'].forEach((name, k) => writeLlama(dir, name, { seed: k + 1 }));
  return dir;
}

function upcycle(dir, yaml, args = [], out = 'out') {
  fs.writeFileSync(path.join(dir, 'moe.yaml'), yaml);
  const r = wasmerge(['moe.yaml', out, ...args], { cwd: dir });
  return { ...r, out: path.join(dir, out) };
}

const modelOf = (dir, name) => readSafetensors(path.join(dir, name, 'model.safetensors')).tensors;
const routerName = (l) => `model.layers.${l}.block_sparse_moe.gate.weight`;
const rowsOf = (t) => Array.from({ length: t.shape[0] }, (_, e) => t.values.slice(e * t.shape[1], (e + 1) * t.shape[1]));
const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
// bf16's spacing at x: the most one rounding of a value near x can move it, twice over.
const ulp = (x) => 2 ** (Math.floor(Math.log2(Math.max(Math.abs(x), 2 ** -126))) - 7);
function assertNear(got, want, what) {
  assert.strictEqual(got.length, want.length, `${what}: length`);
  got.forEach((g, i) => assert.ok(Math.abs(g - roundToGrid('BF16', want[i])) <= ulp(want[i]),
    `${what}[${i}]: ${g}, the spec gives ${want[i]}`));
}

const EXPERTS = ['base', 'ft1', 'ft2', 'ft3'];
const RANDOM_YAML = `base_model: ./base
gate_mode: random
dtype: bfloat16
experts_per_token: 2
random_seed: 7
experts:
${EXPERTS.map((m) => `  - source_model: ./${m}`).join('\n')}
`;

test('upcycle: random gate into 4 experts writes Mixtral: its names, its config.json, each expert the MLP of its source; native = wasm', () => {
  const dir = family('moe-random');
  const r = upcycle(dir, RANDOM_YAML);
  assert.strictEqual(r.status, 0, r.stderr);
  const native = upcycle(dir, RANDOM_YAML, ['--native', '--threads', '1'], 'out-native');
  assert.strictEqual(native.status, 0, native.stderr);
  for (const f of fs.readdirSync(r.out))
    assert.ok(fs.readFileSync(path.join(r.out, f)).equals(fs.readFileSync(path.join(native.out, f))), `native: ${f} differs`);
  const files = fs.readdirSync(r.out).sort();
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'README.md']) assert.ok(files.includes(f), `${f} among ${files}`);
  const got = readSafetensors(path.join(r.out, 'model.safetensors')).tensors;
  const base = modelOf(dir, 'base');

  // Names: the base's, with each layer's MLP replaced by the router and 4 experts' w1/w2/w3.
  const expected = new Map();
  for (const [name, t] of base) if (!name.includes('.mlp.')) expected.set(name, t.shape);
  for (let l = 0; l < DIMS.layers; l++) {
    expected.set(routerName(l), [4, DIMS.hidden]);
    for (let e = 0; e < 4; e++) {
      const p = `model.layers.${l}.block_sparse_moe.experts.${e}.`;
      expected.set(`${p}w1.weight`, [DIMS.intermediate, DIMS.hidden]);
      expected.set(`${p}w2.weight`, [DIMS.hidden, DIMS.intermediate]);
      expected.set(`${p}w3.weight`, [DIMS.intermediate, DIMS.hidden]);
    }
  }
  assert.deepStrictEqual([...got.keys()].sort(), [...expected.keys()].sort());
  for (const [name, shape] of expected) assert.deepStrictEqual(got.get(name).shape, shape, name);
  for (const [name, t] of base) if (!name.includes('.mlp.')) assert.ok(got.get(name).bytes.equals(t.bytes), `${name}: the base's`);

  // w1 <- gate_proj, w2 <- down_proj, w3 <- up_proj, of expert e's source model.
  EXPERTS.forEach((source, e) => {
    const src = modelOf(dir, source);
    for (let l = 0; l < DIMS.layers; l++) {
      for (const [w, proj] of [['w1', 'gate_proj'], ['w2', 'down_proj'], ['w3', 'up_proj']]) {
        assert.ok(got.get(`model.layers.${l}.block_sparse_moe.experts.${e}.${w}.weight`).bytes
          .equals(src.get(`model.layers.${l}.mlp.${proj}.weight`).bytes), `layer ${l} expert ${e} ${w} = ${source}'s ${proj}`);
      }
    }
  });

  // Routers: N(0, 1) from the counter generator, stream by the router's name and the seed.
  for (let l = 0; l < DIMS.layers; l++)
    assertNear(got.get(routerName(l)).values, normalRouter(routerName(l), 7, 4 * DIMS.hidden), routerName(l));

  const config = JSON.parse(fs.readFileSync(path.join(r.out, 'config.json'), 'utf8'));
  assert.deepStrictEqual(config.architectures, ['MixtralForCausalLM']);
  assert.strictEqual(config.model_type, 'mixtral');
  assert.strictEqual(config.num_local_experts, 4);
  assert.strictEqual(config.num_experts_per_tok, 2);
  assert.ok('sliding_window' in config && config.sliding_window === null, 'sliding_window: null');
  assert.strictEqual(config.hidden_size, DIMS.hidden);
  assert.strictEqual(config.intermediate_size, DIMS.intermediate);
  assert.strictEqual(config.num_hidden_layers, DIMS.layers);
});

// Prompts whose ids tests/web/prompt_tokens.test.js works out by hand (bos <s> = 0 first).
const IDS = { 'abcd ef': [0, 11, 12], dab: [0, 6, 9], fe: [0, 8, 7], 'ba cd': [0, 4, 3, 10] };
const promptYaml = (gate, extra = '') => `base_model: ./base
gate_mode: ${gate}
dtype: bfloat16
experts_per_token: 2
experts:
  - source_model: ./ft1
    positive_prompts: ["abcd ef", "dab"]
    negative_prompts: ["fe"]
  - source_model: ./ft2
    positive_prompts: ["ba cd"]
  - source_model: ./ft3
    positive_prompts: ["fe", "abcd ef"]
${extra}`;
const PROMPTS = [[['abcd ef', 'dab'], ['fe']], [['ba cd'], []], [['fe', 'abcd ef'], []]];

test('upcycle: cheap_embed routers are the embedding rows of the prompts\' token ids, summed and normalized (the CLI tokenized them); native = wasm', () => {
  const dir = family('moe-cheap');
  const r = upcycle(dir, promptYaml('cheap_embed'));
  assert.strictEqual(r.status, 0, r.stderr);
  const native = upcycle(dir, promptYaml('cheap_embed'), ['--native'], 'out-native');
  assert.strictEqual(native.status, 0, native.stderr);
  for (const f of fs.readdirSync(r.out))
    assert.ok(fs.readFileSync(path.join(r.out, f)).equals(fs.readFileSync(path.join(native.out, f))), `native: ${f} differs`);
  const embed = modelOf(dir, 'base').get('model.embed_tokens.weight');
  const row = (id) => embed.values.slice(id * DIMS.hidden, (id + 1) * DIMS.hidden);
  const unit = (v) => v.map((x) => x / norm(v));
  const f = (prompts) => unit(prompts.flatMap((p) => IDS[p]).map(row).reduce((s, v) => s.map((x, i) => x + v[i])));
  const expected = PROMPTS.flatMap(([pos, neg]) => unit(neg.length ? f(pos).map((x, i) => x - f(neg)[i]) : f(pos)));
  const got = readSafetensors(path.join(r.out, 'model.safetensors')).tensors;
  for (let l = 0; l < DIMS.layers; l++) assertNear(got.get(routerName(l)).values, expected, routerName(l));
});

test('upcycle: hidden and hidden_avg routers have unit rows that differ by layer; wasm and native give the same bytes', () => {
  const dir = family('moe-hidden');
  for (const gate of ['hidden', 'hidden_avg']) {
    const wasm = upcycle(dir, promptYaml(gate), ['--threads', '2'], `${gate}-wasm`);
    assert.strictEqual(wasm.status, 0, wasm.stderr);
    const native = upcycle(dir, promptYaml(gate), ['--native', '--threads', '1'], `${gate}-native`);
    assert.strictEqual(native.status, 0, native.stderr);
    for (const f of fs.readdirSync(wasm.out))
      assert.ok(fs.readFileSync(path.join(wasm.out, f)).equals(fs.readFileSync(path.join(native.out, f))), `${gate}: ${f} differs`);
    const got = readSafetensors(path.join(wasm.out, 'model.safetensors')).tensors;
    const routers = [0, 1].map((l) => got.get(routerName(l)));
    for (const t of routers) {
      assert.deepStrictEqual(t.shape, [3, DIMS.hidden]);
      for (const [e, v] of rowsOf(t).entries()) assert.ok(Math.abs(norm(v) - 1) < 0.01, `${gate} expert ${e}: |row| = ${norm(v)}`);
    }
    assert.ok(!routers[0].bytes.equals(routers[1].bytes), `${gate}: layer 0 and layer 1 routers are the same`);
  }
  // Another prompt, another router: the prompts' tokens reach the engine.
  const other = upcycle(dir, promptYaml('hidden').replace('["ba cd"]', '["dab ef"]'), [], 'hidden-other');
  assert.strictEqual(other.status, 0, other.stderr);
  const a = readSafetensors(path.join(dir, 'hidden-wasm', 'model.safetensors')).tensors.get(routerName(1)).values;
  const b = readSafetensors(path.join(other.out, 'model.safetensors')).tensors.get(routerName(1)).values;
  assert.deepStrictEqual(b.slice(0, DIMS.hidden), a.slice(0, DIMS.hidden), 'expert 1 kept its prompts');
  assert.notDeepStrictEqual(b.slice(DIMS.hidden, 2 * DIMS.hidden), a.slice(DIMS.hidden, 2 * DIMS.hidden), 'expert 2\'s prompts changed');
});

test('upcycle: a prompt gate mode whose base has no tokenizer.json is an error, with no output left', () => {
  const dir = family('moe-no-tokenizer');
  fs.rmSync(path.join(dir, 'base', 'tokenizer.json'));
  const r = upcycle(dir, promptYaml('hidden'));
  assert.notStrictEqual(r.status, 0);
  assert.match(r.stderr, /error: .*tokeniz/i);
  assert.ok(!fs.existsSync(r.out), 'no output folder');
});

test('upcycle: the CLI reads the base\'s tokenizer relative to the current folder', () => {
  const dir = family('moe-cli-job');
  const { readPromptTokens } = require('../../src/cli/prompt_files');
  const { parseConfigText } = require('../../web/shared/config_text.js');
  const cwd = process.cwd();
  try {
    process.chdir(dir);
    assert.deepStrictEqual(readPromptTokens(parseConfigText(promptYaml('hidden'))), IDS);
    assert.strictEqual(readPromptTokens(parseConfigText(RANDOM_YAML)), null);
    assert.strictEqual(readPromptTokens(parseConfigText(promptYaml('hidden').replace('./base', './missing'))), null);
  } finally {
    process.chdir(cwd);
  }
});
