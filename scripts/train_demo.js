#!/usr/bin/env node
'use strict';
// Trains the merging playground's demo models and writes them into web/demo/playground/:
//   base.safetensors          a trunk pretrained on a mix of other 2-D tasks
//                             (demo_pretext.js) and one zero head per playground task
//   <task>.safetensors        the base fine-tuned on one task (trunk + that task's head)
//   playground.json           the network, the tasks and files, how they were trained
// Every fine-tune starts from the base's exact f32 values, so each file minus the base is
// a task vector, as in the TIES and DARE papers. Deterministic: the same bytes on every
// run (tests/browser/playground.test.js checks the committed files).
//   node scripts/train_demo.js [OUT_DIR]   (default web/demo/playground)
const fs = require('fs');
const path = require('path');
const { writeSafetensors } = require('./lib/st_io');
const { TASKS, evalSet } = require('../web/playground/tasks');
const mlp = require('../web/playground/mlp');
const { initWeights, train, roundToF32 } = require('./demo_trainer');
const { pretextTasks } = require('./demo_pretext');

const SPEC = { inputs: 2, width: 64, depth: 2, tasks: TASKS.map((t) => t.name) };
const PRETRAIN = { tasks: 12, steps: 1500, perTask: 8, lr: 0.01, optimizer: 'adam', seed: 11 };
// Plain SGD with momentum: its task vectors have the uneven magnitudes (a few large
// changes, many small ones) that magnitude trimming assumes; Adam's are nearly uniform.
const FINETUNE = { steps: 1500, perTask: 32, lr: 0.05, optimizer: 'sgd', seed: 500 };

const trunkNames = () => mlp.layout(SPEC).map((t) => t.name).filter((n) => n.startsWith('trunk.'));

function pretrainedBase() {
  const mix = pretextTasks(5, PRETRAIN.tasks);
  const pretextSpec = { ...SPEC, tasks: Object.keys(mix) };
  const weights = initWeights(pretextSpec, 1);
  train(weights, pretextSpec, { ...PRETRAIN, samplers: mix, trained: Object.keys(weights) });
  // The playground's heads start at zero: the base has never been trained on these
  // tasks (it says "class 0" everywhere), and a head's task vector is the head itself.
  const base = {};
  for (const { name, shape } of mlp.layout(SPEC))
    base[name] = name.startsWith('trunk.') ? weights[name] : new Float64Array(shape.reduce((a, b) => a * b, 1));
  return roundToF32(base);
}

function fineTune(base, task) {
  const weights = Object.fromEntries(Object.entries(base).map(([name, v]) => [name, Float64Array.from(v)]));
  const { sample } = TASKS.find((t) => t.name === task);
  train(weights, SPEC, { ...FINETUNE, samplers: { [task]: sample }, trained: [...trunkNames(), mlp.headWeight(task)] });
  return roundToF32(weights);
}

const accuracies = (weights) => Object.fromEntries(SPEC.tasks.map((t) => [t, mlp.accuracy(weights, SPEC, t, evalSet(t))]));

function writeModel(file, weights) {
  writeSafetensors(file, mlp.layout(SPEC).map(({ name, shape }) => ({ name, dtype: 'F32', shape, values: weights[name] })),
    { format: 'pt' });
}

// -> the names of the files written into outDir.
function trainDemo(outDir, log = () => {}) {
  fs.mkdirSync(outDir, { recursive: true });
  const base = pretrainedBase();
  const models = { base };
  for (const task of SPEC.tasks) models[task] = fineTune(base, task);
  const manifest = {
    about: 'The merging playground: a base model and one fine-tune per task, made by scripts/train_demo.js.',
    network: SPEC,
    base: 'base.safetensors',
    tasks: TASKS.map(({ name, title, about }) => ({ name, title, about, file: `${name}.safetensors` })),
    training: { pretrain: PRETRAIN, finetune: FINETUNE },
    accuracy: {},  // on each task's test points (tasks.js evalSet): what the page must reproduce
  };
  for (const [name, weights] of Object.entries(models)) {
    writeModel(path.join(outDir, `${name}.safetensors`), weights);
    manifest.accuracy[name] = accuracies(weights);
    log(`${name.padEnd(13)} ${SPEC.tasks.map((t) => `${t} ${(100 * manifest.accuracy[name][t]).toFixed(1)}%`).join('  ')}`);
  }
  fs.writeFileSync(path.join(outDir, 'playground.json'), JSON.stringify(manifest, null, 2) + '\n');
  return ['playground.json', ...Object.keys(models).map((n) => `${n}.safetensors`)];
}

if (require.main === module) {
  const out = path.resolve(process.argv[2] || path.join(__dirname, '../web/demo/playground'));
  const started = Date.now();
  const files = trainDemo(out, console.log);
  console.log(`wrote ${files.length} files into ${out} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

module.exports = { trainDemo, SPEC };
