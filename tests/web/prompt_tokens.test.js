'use strict';
// Upcycling's prompt tokens (web/shared/prompt_tokens.js) against ids worked out by hand
// for a tiny BPE tokenizer.json (tests/cli/moe_models.js): whitespace-split words, four merges, a
// special <s>. The expected ids below come from applying the merges on paper, not from
// the code under test.
const { test, assert } = require('../cli/harness');
const PT = require('../../web/shared/prompt_tokens.js');
const { TINY_TOKENIZER } = require('../cli/moe_models');

// ids: <s> 0, </s> 1, <unk> 2, a 3, b 4, c 5, d 6, e 7, f 8, ab 9, cd 10, abcd 11, ef 12.
// merges by rank: (a b) 0, (c d) 1, (ab cd) 2, (e f) 3. (The upcycling tests' models carry it too.)
const TOKENIZER = JSON.stringify(TINY_TOKENIZER);
const BOS_STRING = JSON.stringify({ bos_token: '<s>', eos_token: '</s>', add_bos_token: true });
const BOS_OBJECT = JSON.stringify({ bos_token: { __type: 'AddedToken', content: '<s>', lstrip: false, rstrip: false }, eos_token: '</s>' });

const config = (extra = {}) => ({
  base_model: './base',
  gate_mode: 'hidden',
  experts: [
    { source_model: './code', positive_prompts: ['abcd ef', 'dab'], negative_prompts: ['fe'] },
    { source_model: './math', positive_prompts: ['ba cd', 'abcd ef'] },
  ],
  ...extra,
});

// By hand: "<s>" is an added token, matched first; then words split at spaces.
//   abcd -> a b c d -> ab c d -> ab cd -> abcd (11); ef -> ef (12)
//   dab  -> d a b -> d ab (no (d ab) merge): 6 9
//   ba   -> b a (no (b a) merge): 4 3; cd -> 10
//   fe   -> f e (no (f e) merge): 8 7
const WITH_BOS = { 'abcd ef': [0, 11, 12], dab: [0, 6, 9], fe: [0, 8, 7], 'ba cd': [0, 4, 3, 10] };
const WITHOUT_BOS = { 'abcd ef': [11, 12], dab: [6, 9], fe: [8, 7], 'ba cd': [4, 3, 10] };

test('prompt tokens: bos_token + prompt, no special tokens added; each text once, positive and negative', () => {
  const got = PT.promptTokens(config(), TOKENIZER, BOS_STRING);
  assert.deepStrictEqual(got, WITH_BOS);
  assert.deepStrictEqual(Object.keys(got), ['abcd ef', 'dab', 'fe', 'ba cd'], 'config order, the repeated prompt once');
});

test('prompt tokens: bos_token as an AddedToken object; absent, null or no tokenizer_config.json prepends nothing', () => {
  assert.deepStrictEqual(PT.promptTokens(config(), TOKENIZER, BOS_OBJECT), WITH_BOS);
  assert.deepStrictEqual(PT.promptTokens(config(), TOKENIZER, null), WITHOUT_BOS);
  assert.deepStrictEqual(PT.promptTokens(config(), TOKENIZER, JSON.stringify({ bos_token: null })), WITHOUT_BOS);
  assert.deepStrictEqual(PT.promptTokens(config(), TOKENIZER, JSON.stringify({ eos_token: '</s>' })), WITHOUT_BOS);
});

test('prompt tokens: every prompt gate mode, shared experts too; special tokens in a prompt\'s text stay themselves', () => {
  for (const gate_mode of ['hidden_avg', 'hidden_last', 'cheap_embed'])
    assert.deepStrictEqual(PT.promptTokens(config({ gate_mode }), TOKENIZER, BOS_STRING), WITH_BOS, gate_mode);
  const noMode = config();
  delete noMode.gate_mode;  // hidden, mergekit's default
  assert.deepStrictEqual(PT.promptTokens(noMode, TOKENIZER, BOS_STRING), WITH_BOS);
  const shared = config({ shared_experts: [{ source_model: './base', positive_prompts: ['ab</s>'], negative_prompts: ['__proto__'] }] });
  const got = PT.promptTokens(shared, TOKENIZER, BOS_STRING);
  assert.deepStrictEqual(got['ab</s>'], [0, 9, 1]);
  assert.ok(Object.prototype.hasOwnProperty.call(got, '__proto__'), 'a prompt named __proto__ is a key like any other');
  // None of _ p r o t is in the vocabulary, and fuse_unk is off: one <unk> per character.
  assert.deepStrictEqual(JSON.parse(JSON.stringify(got)).__proto__, [0, ...Array(9).fill(2)]);
});

test('prompt tokens: none for random gates, for merges, without prompts or without a tokenizer.json', () => {
  assert.strictEqual(PT.promptTokens(config({ gate_mode: 'random' }), TOKENIZER, BOS_STRING), null);
  assert.strictEqual(PT.promptTokens(config({ gate_mode: 'uniform_random' }), TOKENIZER, BOS_STRING), null);
  assert.strictEqual(PT.promptTokens(config(), null, BOS_STRING), null);
  assert.strictEqual(PT.promptTokens({ base_model: 'b', experts: [{ source_model: 'x' }] }, TOKENIZER, null), null);
  assert.strictEqual(PT.promptTokens({ merge_method: 'ties', base_model: 'b', experts: [] }, TOKENIZER, null), null);
});

test('prompt tokens: which files a host reads, from the base folder (a LoRA\'s +adapter left out)', () => {
  assert.deepStrictEqual(PT.tokenizerFiles(config()), { tokenizer: './base/tokenizer.json', tokenizerConfig: './base/tokenizer_config.json' });
  assert.deepStrictEqual(PT.tokenizerFiles(config({ base_model: 'models/base/+lora' })),
    { tokenizer: 'models/base/tokenizer.json', tokenizerConfig: 'models/base/tokenizer_config.json' });
  assert.strictEqual(PT.tokenizerFiles(config({ gate_mode: 'random' })), null);
  assert.strictEqual(PT.isUpcycleConfig({ base_model: 'b', experts: [] }), true);
  assert.strictEqual(PT.isUpcycleConfig({ merge_method: 'linear', models: [] }), false);
  assert.throws(() => PT.promptTokens(config(), '{"model": {"type": "Nope"}}', null), /tokenizer\.json could not be read/);
});
