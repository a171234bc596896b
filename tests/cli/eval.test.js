'use strict';
// scripts/wasmerge eval (SPEC §9): the wasm and native engines print the same numbers; the
// tokens are the model's tokenizer with its special tokens (counted here by hand); --json's
// shape and order; perplexity and bits per byte follow from nll; bad input is one error line,
// nothing on stdout. (The numbers themselves are held to an f64 reference in
// tests/test_eval.cpp.)
const fs = require('fs');
const path = require('path');
const { test, assert, scratchDir, wasmerge } = require('./harness');
const { TINY_TOKENIZER, writeLlama } = require('./moe_models');

// The tiny tokenizer with a post-processor that adds <s> (id 0), as Llama's does.
const WITH_BOS = { ...TINY_TOKENIZER, post_processor: { type: 'TemplateProcessing',
  single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
  pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
    { Sequence: { id: 'B', type_id: 1 } }],
  special_tokens: { '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] } } } };

// "ab cd ef abcd ab e": <s> ab cd ef abcd ab e -> 7 tokens; 18 bytes.
const TEXT = 'ab cd ef abcd ab e';

function models(dir) {
  writeLlama(dir, 'a', { seed: 3 });
  writeLlama(dir, 'b', { seed: 4 });
  for (const m of ['a', 'b']) fs.writeFileSync(path.join(dir, m, 'tokenizer.json'), JSON.stringify(WITH_BOS));
  fs.writeFileSync(path.join(dir, 'text.txt'), TEXT);
}

test('eval: wasm and --native print the same numbers; --json in the order given; tokens with BOS', () => {
  const dir = scratchDir('eval');
  models(dir);
  const args = ['eval', '--text', 'text.txt', '--context', '3', '--json', 'b', 'a'];
  const wasm = wasmerge(args, { cwd: dir });
  assert.strictEqual(wasm.status, 0, wasm.stderr);
  const native = wasmerge([...args, '--native', '--threads', '1', '--memory-mb', '1'], { cwd: dir });
  assert.strictEqual(native.status, 0, native.stderr);
  assert.strictEqual(wasm.stdout, native.stdout);
  const results = JSON.parse(wasm.stdout);
  assert.deepStrictEqual(results.map((r) => Object.keys(r)), Array(2).fill(['model', 'tokens', 'nll', 'perplexity', 'bits_per_byte']));
  assert.deepStrictEqual(results.map((r) => r.model), ['b', 'a']);
  // 7 tokens in windows of 3: 3, 3 and a 1-token tail dropped: 2 + 2 = 4 predicted.
  for (const r of results) {
    assert.strictEqual(r.tokens, 7);
    assert.ok(r.nll > 0 && Number.isFinite(r.nll));
    assert.ok(Math.abs(r.perplexity - Math.exp(r.nll)) <= 1e-12 * r.perplexity);
    assert.ok(Math.abs(r.bits_per_byte - (r.nll * 4) / Math.LN2 / 18) <= 1e-12 * r.bits_per_byte);
  }
  assert.notStrictEqual(results[0].nll, results[1].nll);
});

test('eval: the table names each model with tokens, nll, perplexity and bits/byte', () => {
  const dir = scratchDir('eval-table');
  models(dir);
  const r = wasmerge(['eval', '--text', 'text.txt', 'a', 'b'], { cwd: dir });
  assert.strictEqual(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^model\s+tokens\s+nll\s+perplexity\s+bits\/byte$/);
  assert.match(lines[1], /^a\s+7\s+\d+\.\d{4}\s+\d+\.\d{3}\s+\d+\.\d{4}$/);
  assert.match(lines[2], /^b\s+7\s/);
  assert.match(r.stderr, /a: 2 layers, 1 windows/);
});

test('eval: bad input is one error line and nothing on stdout', () => {
  const dir = scratchDir('eval-errors');
  models(dir);
  writeLlama(dir, 'bare', { seed: 5, tokenizer: false });
  fs.writeFileSync(path.join(dir, 'empty.txt'), '');
  const gpt2 = writeLlama(dir, 'gpt2', { seed: 6 });
  const config = JSON.parse(fs.readFileSync(path.join(gpt2, 'config.json'), 'utf8'));
  fs.writeFileSync(path.join(gpt2, 'config.json'), JSON.stringify({ ...config, model_type: 'gpt2' }));
  const cases = [
    [['--text', 'empty.txt', 'a'], 'error: empty.txt: the text to evaluate is empty'],
    [['--text', 'text.txt', 'a', 'bare'], "error: bare/tokenizer.json: not found: eval tokenizes the text with the model's own tokenizer"],
    [['--text', 'text.txt', '--context', '65', 'a'],
      "error: a/config.json: context 65 is longer than the model's max_position_embeddings (64)"],
    [['--text', 'text.txt', 'gpt2'], "error: gpt2/config.json: model_type 'gpt2' is not one the decoder runs " +
      '(llama, mistral, qwen2, qwen3, mixtral, qwen2_moe, qwen3_moe)'],
    [['--text', 'missing.txt', 'a'], 'error: missing.txt: cannot read the text (ENOENT)'],
  ];
  for (const [args, line] of cases) {
    for (const native of [false, true]) {
      const r = wasmerge(['eval', ...args, ...(native ? ['--native'] : [])], { cwd: dir });
      assert.strictEqual(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.strictEqual(r.stdout, '');
      assert.deepStrictEqual(r.stderr.trim().split('\n').filter((l) => l.startsWith('error')), [line]);
    }
  }
  const usage = wasmerge(['eval', 'a'], { cwd: dir });
  assert.strictEqual(usage.status, 2);
  assert.match(usage.stderr, /^error: eval needs --text FILE\n/);
});
