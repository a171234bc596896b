#!/usr/bin/env node
'use strict';
// Trains the layer lab's demo model and writes it into web/demo/lab/ as a Llama-typed
// folder, so the engine's slice merges (SPEC §5) and Mixtral upcycling (SPEC §7) take it
// unchanged:
//   model.safetensors   a tiny Llama-shaped residual network (web/lab/lab_net.js) trained
//                       on three spiral arms (web/lab/lab_task.js), F32
//   config.json         model_type llama, its shapes
//   lab.json            the network, how it was trained, its test accuracy (the page's
//                       must equal it)
// Deterministic: the same bytes on every run (tests/browser/lab.test.js checks the files).
//   node scripts/train_lab.js [OUT_DIR]   (default web/demo/lab)
const fs = require('fs');
const path = require('path');
const { writeSafetensors } = require('./lib/st_io');
const { createRandom } = require('../web/playground/random');
const { buildNet, batchGradients, evaluate } = require('../web/lab/lab_net');
const { evalSet, trainStream, CLASSES, TURNS } = require('../web/lab/lab_task');
const { createAdam, roundToF32 } = require('./demo_trainer');

const SPEC = { hidden: 16, intermediate: 32, layers: 8, classes: CLASSES, inputs: 3 };
const TRAIN = { steps: 1200, batch: 48, lr: 0.01, seed: 2024, init_seed: 5, optimizer: 'adam' };

// The tensors in a Llama checkpoint's order: [name, shape].
function layout({ hidden: H, intermediate: I, layers, classes, inputs }) {
  const out = [['model.embed_tokens.weight', [inputs, H]]];
  for (let i = 0; i < layers; i++) {
    const p = `model.layers.${i}.`;
    out.push([`${p}self_attn.v_proj.weight`, [H, H]], [`${p}self_attn.o_proj.weight`, [H, H]],
      [`${p}mlp.gate_proj.weight`, [I, H]], [`${p}mlp.up_proj.weight`, [I, H]], [`${p}mlp.down_proj.weight`, [H, I]],
      [`${p}input_layernorm.weight`, [H]], [`${p}post_attention_layernorm.weight`, [H]]);
  }
  out.push(['model.norm.weight', [H]], ['lm_head.weight', [classes, H]]);
  return out;
}

// Glorot-uniform matrices; the residual branches' outputs (o_proj, down_proj) scaled down
// by 1/√(2·layers) so the untrained stack starts near the identity; norms at 1.
function initWeights(spec, seed) {
  const r = createRandom(seed);
  const weights = {};
  for (const [name, shape] of layout(spec)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float64Array(n);
    if (shape.length === 1) v.fill(1);
    else {
      const branchOut = /(o_proj|down_proj)/.test(name) ? 1 / Math.sqrt(2 * spec.layers) : 1;
      const limit = Math.sqrt(6 / (shape[0] + shape[1])) * branchOut;
      for (let i = 0; i < n; i++) v[i] = (2 * r.uniform() - 1) * limit;
    }
    weights[name] = v;
  }
  return weights;
}

function llamaConfig({ hidden, intermediate, layers, inputs }) {
  return {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: hidden, intermediate_size: intermediate,
    num_attention_heads: 1, num_key_value_heads: 1, num_hidden_layers: layers, vocab_size: inputs,
    rms_norm_eps: 1e-5, hidden_act: 'silu', tie_word_embeddings: false, torch_dtype: 'float32',
  };
}

function trainLab(outDir, log = () => {}) {
  fs.mkdirSync(outDir, { recursive: true });
  const net = buildNet(initWeights(SPEC, TRAIN.init_seed));
  const names = Object.keys(net.tensors);
  const adam = createAdam(net.tensors, names, { lr: TRAIN.lr });
  const next = trainStream(TRAIN.seed);
  let recent = 0;
  for (let s = 0; s < TRAIN.steps; s++) {
    const { loss, grads } = batchGradients(net, next(TRAIN.batch));
    adam(grads, TRAIN.lr * (1 - 0.9 * (s / TRAIN.steps)));
    if (s >= TRAIN.steps - 50) recent += loss / 50;
  }
  const weights = roundToF32(net.tensors);
  writeSafetensors(path.join(outDir, 'model.safetensors'),
    layout(SPEC).map(([name, shape]) => ({ name, dtype: 'F32', shape, values: weights[name] })), { format: 'pt' });
  fs.writeFileSync(path.join(outDir, 'config.json'), JSON.stringify(llamaConfig(SPEC), null, 2) + '\n');
  const accuracy = evaluate(buildNet(weights), evalSet()).accuracy;
  const manifest = {
    about: 'The layer lab: a tiny Llama-shaped residual network on three spiral arms, made by scripts/train_lab.js.',
    network: SPEC,
    files: ['config.json', 'model.safetensors'],  // the Llama folder the page loads and merges
    task: { name: 'spiral3', about: `three spiral arms of ${TURNS} turns, one class per arm` },
    training: { ...TRAIN, final_loss: Number(recent.toFixed(6)) },
    accuracy,  // on lab_task.js's evaluation points: what the page must reproduce
  };
  fs.writeFileSync(path.join(outDir, 'lab.json'), JSON.stringify(manifest, null, 2) + '\n');
  log(`accuracy ${(100 * accuracy).toFixed(1)}%  loss ${recent.toFixed(4)}`);
  return ['config.json', 'lab.json', 'model.safetensors'];
}

if (require.main === module) {
  const out = path.resolve(process.argv[2] || path.join(__dirname, '../web/demo/lab'));
  const started = Date.now();
  const files = trainLab(out, console.log);
  console.log(`wrote ${files.length} files into ${out} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

module.exports = { trainLab, SPEC, layout };
