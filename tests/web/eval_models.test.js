'use strict';
// What the page's evaluation panel offers (web/eval_models.js), in node: the picked folders
// with a config.json, the merge under a folder name no pick uses, and which of them a merge
// config read ("Compare with its inputs"). The expected lists are written out by hand.
const { test, assert } = require('../cli/harness');
const { buildFileTable } = require('../../web/file_table.js');
const { evalCandidates, mergeAndInputs, configInputs } = require('../../web/eval_models.js');

const file = (size = 1) => ({ size });
const folder = (name, extra = []) => ['model.safetensors', 'config.json', 'tokenizer.json', ...extra]
  .map((f) => ({ path: `${name}/${f}`, file: file() }));
const MERGE_ENTRIES = ['model.safetensors', 'config.json', 'tokenizer.json', 'README.md'].map((name) => ({ name, offset: 0, size: 1 }));

test('eval models: picked folders with a config.json, then the merge as "merged" (or a free name)', () => {
  const table = buildFileTable([...folder('models/base'), ...folder('models/ft'),
    { path: 'loose.safetensors', file: file() },                       // no config.json: a file model
    { path: 'noconf/model.safetensors', file: file() }]);               // a folder without config.json
  const merge = { output: 'merge-1.zip', entries: MERGE_ENTRIES, config: {} };
  assert.deepStrictEqual(evalCandidates(table, null).map((c) => [c.name, c.folder, c.isMerge]),
    [['base', 'models/base', false], ['ft', 'models/ft', false]]);
  assert.deepStrictEqual(evalCandidates(table, merge).map((c) => [c.name, c.folder, c.isMerge]),
    [['base', 'models/base', false], ['ft', 'models/ft', false], ['merged', 'merged', true]]);
  // A pick already called merged: the merge takes the next free name.
  const taken = buildFileTable([...folder('merged'), { path: 'merged-2/x.txt', file: file() }]);
  assert.deepStrictEqual(evalCandidates(taken, merge).map((c) => c.folder), ['merged', 'merged-3']);
  // An extracted LoRA adapter, or a merge of loose files (no config.json), is no model to score.
  const adapter = [{ name: 'adapter_config.json' }, { name: 'adapter_model.safetensors' }, { name: 'config.json' }];
  assert.deepStrictEqual(evalCandidates(table, { ...merge, entries: adapter }).map((c) => c.folder), ['models/base', 'models/ft']);
  assert.deepStrictEqual(evalCandidates(table, { ...merge, entries: [{ name: 'model.safetensors' }] }).length, 2);
});

test('eval models: a merge\'s inputs are the picked folders its config reads, and the merge', () => {
  const table = buildFileTable([...folder('base'), ...folder('math'), ...folder('code'), ...folder('other')]);
  const merge = { output: 'm.zip', entries: MERGE_ENTRIES };
  const candidates = evalCandidates(table, merge);
  const pick = (config) => mergeAndInputs(table, candidates, config).map((c) => c.name);
  assert.deepStrictEqual(pick({ merge_method: 'ties', base_model: './base', models: [{ model: 'math' }, { model: 'code/' }] }),
    ['base', 'code', 'math', 'merged']);  // in the panel's order (the candidates'), 'other' left out
  assert.deepStrictEqual(configInputs({ slices: [{ sources: [{ model: 'a', layer_range: [0, 2] }, { model: 'b' }] }] }), ['a', 'b']);
  assert.deepStrictEqual(configInputs({ base_model: 'base', experts: [{ source_model: 'math' }], shared_experts: [{ source_model: 'code' }] }),
    ['base', 'math', 'code']);
  assert.deepStrictEqual(pick({ base_model: 'base', experts: [{ source_model: 'math' }, { source_model: 'nowhere' }] }),
    ['base', 'math', 'merged']);
  assert.deepStrictEqual(configInputs(null), []);
  assert.deepStrictEqual(configInputs({ models: [null, 3, { model: '' }] }), []);
});
