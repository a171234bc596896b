'use strict';
// The page's upcycling config (web/upcycle_config.js): the starting config for the picks,
// and what the engine would refuse, said before the run.
const { test, assert } = require('../cli/harness');
const U = require('../../web/upcycle_config.js');
const { buildFileTable } = require('../../web/file_table.js');

const picks = (names, { tokenizer = true } = {}) => buildFileTable(names.flatMap((n) => [
  { path: `${n}/model.safetensors`, file: { size: 1 } },
  ...(tokenizer ? [{ path: `${n}/tokenizer.json`, file: { size: 1 } }] : []),
]));
const messages = (config, files) => U.checkUpcycle(config, files).map((p) => p.message);

test('upcycle config: the base and the others as experts; with one other the base joins; alone, copied 4 times', () => {
  const names = (list) => list.map((name) => ({ name }));
  assert.deepStrictEqual(U.autoUpcycleConfig(names(['a', 'base', 'b']), { dtype: 'bfloat16', random_seed: 3 }), {
    base_model: 'base', gate_mode: 'random', experts_per_token: 2, dtype: 'bfloat16', random_seed: 3,
    experts: [{ source_model: 'a' }, { source_model: 'b' }] });
  assert.deepStrictEqual(U.autoUpcycleConfig(names(['m', 'n'])).experts, [{ source_model: 'm' }, { source_model: 'n' }]);
  assert.deepStrictEqual(U.autoUpcycleConfig(names(['m'])).experts, Array(4).fill({ source_model: 'm' }));
  assert.deepStrictEqual(U.autoUpcycleConfig([]), {});
  assert.strictEqual(U.expertsAreCopies(U.autoUpcycleConfig(names(['m'])), (a, b) => a === b), true);
});

test('upcycle config: too few experts for experts_per_token, prompts missing, no tokenizer, two shared experts', () => {
  const files = picks(['base', 'a']);
  const ok = { base_model: 'base', gate_mode: 'hidden', experts: [{ source_model: 'a', positive_prompts: ['x'] }, { source_model: 'base', positive_prompts: ['y'] }] };
  assert.deepStrictEqual(messages(ok, files), []);
  assert.deepStrictEqual(messages({ ...ok, experts_per_token: 3 }, files),
    ['experts_per_token is 3, and there are 2 experts: each token goes to experts_per_token of them, so it must be a whole number from 1 to 2.']);
  const noPrompts = { ...ok, gate_mode: undefined, experts: [{ source_model: 'a' }, ok.experts[1]] };
  assert.deepStrictEqual(messages(noPrompts, files), ['expert 1 (a) has no positive prompts, which gate_mode hidden needs (or pick random or uniform_random).']);
  assert.deepStrictEqual(messages({ ...noPrompts, gate_mode: 'random' }, files), []);
  assert.match(messages(ok, picks(['base', 'a'], { tokenizer: false })).join(), /no tokenizer\.json among the picked files/);
  assert.match(messages({ ...ok, shared_experts: [{ source_model: 'a' }, { source_model: 'a' }] }, files).join(), /exactly one shared expert/);
  assert.match(messages({ ...ok, gate_mode: 'learned' }, files).join(), /gate_mode 'learned' is not one of/);
  assert.deepStrictEqual(messages({ experts: [] }, files), ['Upcycling needs a base model (base_model): attention, embeddings and norms come from it.',
    'Give at least one expert (experts:).']);
});

test('upcycle config: prompts one a line, empty lines dropped, spaces kept; each gate mode says what it costs', () => {
  assert.deepStrictEqual(U.promptLines('def \n\n#include\r\n  \n'), ['def ', '#include']);
  assert.strictEqual(U.promptText(['a', 'b']), 'a\nb');
  assert.match(U.gateModeText('random'), /Costs nothing\.$/);
  assert.match(U.gateModeText('uniform_random'), /Costs nothing\.$/);
  assert.match(U.gateModeText('cheap_embed'), /Costs one embedding lookup/);
  for (const m of ['hidden', 'hidden_avg', 'hidden_last']) assert.match(U.gateModeText(m), /Costs a forward pass of the base model over the prompts/);
});
