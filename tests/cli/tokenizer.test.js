'use strict';
// A union of two vocabularies end to end through scripts/wasmerge (the wasm engine, node's
// host handing it every model's tokenizer files): rows in the output's token order, the
// missing ones filled as mergekit does, the tokenizer files, vocab_size, the chat template,
// and the dry run's account of it. Expectations are written here from mergekit's rules.
const fs = require('fs');
const path = require('path');
const { test, assert, scratchDir, wasmerge } = require('./harness');
const { readSafetensors, writeSafetensors, rng, roundToGrid } = require('../../scripts/lib/st_io');
const { withinTolerance } = require('./reference');

const COLUMNS = 4;

function tokenizerJson(vocab, added) {
  return JSON.stringify({
    version: '1.0',
    model: { type: 'BPE', vocab: Object.fromEntries(vocab.map((t, i) => [t, i])), merges: [] },
    added_tokens: added.map(([id, content]) => ({ id, content, single_word: false, lstrip: false, rstrip: false,
      normalized: false, special: true })),
  });
}

// A folder model of `rows` vocabulary rows (BF16): rows[name][r] is row r of that tensor.
function writeModel(dir, name, rows, seed, vocab, added) {
  const r = rng(seed);
  const tensor = () => Array.from({ length: rows }, () => Array.from({ length: COLUMNS }, () => roundToGrid('BF16', r() * 2 - 1)));
  const m = { 'model.embed_tokens.weight': tensor(), 'lm_head.weight': tensor() };
  const folder = path.join(dir, name);
  fs.mkdirSync(folder, { recursive: true });
  writeSafetensors(path.join(folder, 'model.safetensors'), [
    { name: 'model.embed_tokens.weight', dtype: 'BF16', shape: [rows, COLUMNS], values: m['model.embed_tokens.weight'].flat() },
    { name: 'model.norm.weight', dtype: 'BF16', shape: [COLUMNS], values: [1, 1, 1, 1] },
    { name: 'lm_head.weight', dtype: 'BF16', shape: [rows, COLUMNS], values: m['lm_head.weight'].flat() },
  ]);
  fs.writeFileSync(path.join(folder, 'tokenizer.json'), tokenizerJson(vocab, added));
  fs.writeFileSync(path.join(folder, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 64 }));
  fs.writeFileSync(path.join(folder, 'config.json'), JSON.stringify({ model_type: 'llama', vocab_size: rows }));
  return m;
}

const CONFIG = `merge_method: linear
models:
  - {model: ./base, parameters: {weight: 1}}
  - {model: ./chat, parameters: {weight: 1}}
tokenizer_source: union
chat_template: chatml
dtype: bfloat16
`;

test('tokenizer_source union: rows in the output order, missing ones from the model that has them', () => {
  const dir = scratchDir('union');
  // base: <unk> <s> </s> hello world; chat: the same but hello and world swapped, plus
  // robot and two added tokens.
  const base = writeModel(dir, 'base', 5, 1, ['<unk>', '<s>', '</s>', 'hello', 'world'], []);
  const chat = writeModel(dir, 'chat', 8, 2, ['<unk>', '<s>', '</s>', 'world', 'hello', 'robot'],
    [[6, '<|im_start|>'], [7, '<|im_end|>']]);
  fs.writeFileSync(path.join(dir, 'merge.yaml'), CONFIG);

  const plan = JSON.parse(wasmerge(['--dry-run', 'merge.yaml', '--json'], { cwd: dir }).stdout);
  assert.deepStrictEqual(plan.vocabulary.appended, ['robot', '<|im_start|>', '<|im_end|>']);
  assert.strictEqual(plan.vocabulary.rows, 8);
  assert.strictEqual(plan.config_edits.vocab_size, 8);
  const text = wasmerge(['--dry-run', 'merge.yaml'], { cwd: dir });
  assert.match(text.stdout, /vocabulary \(union, tokenizer of \.\/base\): 8 tokens, 3 new/);

  const r = wasmerge(['merge.yaml', 'out'], { cwd: dir });
  assert.strictEqual(r.status, 0, r.stderr);
  const out = path.join(dir, 'out');
  assert.strictEqual(fs.statSync(path.join(out, 'model.safetensors')).size, plan.files[0].bytes);
  // output token -> [base row or null, chat row]; a token only chat has is chat's row in both.
  const sources = [[0, 0], [1, 1], [2, 2], [3, 4], [4, 3], [null, 5], [null, 6], [null, 7]];
  const { tensors } = readSafetensors(path.join(out, 'model.safetensors'));
  for (const name of ['model.embed_tokens.weight', 'lm_head.weight']) {
    const t = tensors.get(name);
    assert.deepStrictEqual(t.shape, [8, COLUMNS]);
    sources.forEach(([b, c], row) => {
      for (let col = 0; col < COLUMNS; col++) {
        const want = ((b === null ? chat[name][c][col] : base[name][b][col]) + chat[name][c][col]) / 2;
        const got = t.values[row * COLUMNS + col];
        if (!withinTolerance('BF16', got, want, 2)) assert.fail(`${name} row ${row}: got ${got}, want ${want}`);
      }
    });
  }
  const tok = JSON.parse(fs.readFileSync(path.join(out, 'tokenizer.json'), 'utf8'));
  assert.deepStrictEqual(tok.added_tokens.map((t) => [t.id, t.content, t.special]),
    [[5, 'robot', false], [6, '<|im_start|>', true], [7, '<|im_end|>', true]]);
  assert.strictEqual(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).vocab_size, 8);
  const tc = JSON.parse(fs.readFileSync(path.join(out, 'tokenizer_config.json'), 'utf8'));
  assert.match(tc.chat_template, /<\|im_start\|>/);
  assert.strictEqual(tc.model_max_length, 64);
  assert.strictEqual(tc.added_tokens_decoder['7'].content, '<|im_end|>');

  // The native engine writes the same files.
  assert.strictEqual(wasmerge(['--native', 'merge.yaml', 'native'], { cwd: dir }).status, 0);
  for (const f of ['model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'config.json'])
    assert.ok(fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(dir, 'native', f))), f);
});

test('tokenizer_source union: a model without tokenizer.json is named, nothing written', () => {
  const dir = scratchDir('union-missing');
  writeModel(dir, 'base', 5, 1, ['<unk>', '<s>', '</s>', 'hello', 'world'], []);
  writeModel(dir, 'chat', 6, 2, ['<unk>', '<s>', '</s>', 'world', 'hello', 'robot'], []);
  fs.rmSync(path.join(dir, 'chat/tokenizer.json'));
  fs.writeFileSync(path.join(dir, 'merge.yaml'), CONFIG);
  const r = wasmerge(['merge.yaml', 'out'], { cwd: dir });
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /error: \.\/chat: has no tokenizer\.json, which tokenizer_source: union reads from every model/);
  assert.ok(!fs.existsSync(path.join(dir, 'out')), 'no output folder');
});
