// The layer-space lab: loads the demo folder (web/demo/lab/) into its worker, then mounts
// the three experiments (removal, depth up-scaling, upcycling). Every model an experiment
// shows is the engine's merge of a config, read back and evaluated here (lab_net.js).
//   mount(element)
// Hooks for tests: element.dataset.state (loading | ready | error), .dataset.updates (how
// many views have been redrawn after a control change).
import * as Markup from './lab_markup.js';
import * as Client from '../playground/playground_client.js';
import { dumpConfig } from '../config_yaml.js';
import { readF32Tensors } from '../playground/safetensors_f32.js';
import { buildNet, evaluate } from './lab_net.js';
import { evalSet } from './lab_task.js';
import { mountRemoval } from './removal_view.js';
import { mountDepthUpscale } from './dus_view.js';
import { mountUpcycle } from './upcycle_view.js';

const DEMO = 'demo/lab/';
const decodeJson = (bytes) => JSON.parse(new TextDecoder().decode(bytes));

async function mount(root) {
  root.innerHTML = Markup.HTML;
  root.dataset.state = 'loading';
  root.dataset.updates = '0';
  const $ = (id) => root.querySelector(`#${id}`);
  try {
    const manifest = await (await fetch(`${DEMO}lab.json`)).json();
    const buffers = await Promise.all(manifest.files.map(async (f) => (await fetch(DEMO + f)).arrayBuffer()));
    const file = (name) => new Uint8Array(buffers[manifest.files.indexOf(name)]);
    const dense = { weights: readF32Tensors(file('model.safetensors')), config: decodeJson(file('config.json')) };
    const client = Client.createClient(new URL('./lab.worker.js', import.meta.url));
    const scheduler = Client.createScheduler(client);
    await scheduler.now('load', { files: Object.fromEntries(manifest.files.map((f, i) => [`lab/${f}`, buffers[i].slice(0)])) });

    const set = evalSet();
    const netOf = (m) => buildNet(m.weights, { k: m.config.num_experts_per_tok, eps: m.config.rms_norm_eps });
    // One engine merge of config, read back: -> {weights, config (its config.json), yaml, warnings, engineMs}
    const run = (queue) => async (config) => {
      const yaml = dumpConfig(config);
      const r = await queue('merge', { config, configText: yaml });
      return { weights: readF32Tensors(r.files['model.safetensors']), config: decodeJson(r.files['config.json']), yaml,
        warnings: r.warnings, engineMs: r.ms };
    };
    const denseEval = evaluate(netOf(dense), set);
    const ctx = {
      layers: dense.config.num_hidden_layers, set, dense, denseEval, netOf,
      merge: run(scheduler.now), mergeLater: run(scheduler.later),
      // A view calls it when it shows the result of a control change made at t0 (merged: the merge it shows).
      shown(t0, merged) {
        const ms = performance.now() - t0;
        $('lab-latency').dataset.ms = ms.toFixed(1);
        $('lab-latency').textContent = `Last update ${ms.toFixed(0)} ms after the control changed ` +
          `(the engine's merge in the worker ${merged.engineMs.toFixed(0)} ms; then read back, evaluate, draw).`;
        root.dataset.updates = String(Number(root.dataset.updates) + 1);
      },
      fail(e) {
        $('lab-status').textContent = `The engine refused: ${e.message}`;
        root.dataset.lastError = e.message;
      },
    };
    const { hidden_size: H, intermediate_size: I } = dense.config;
    $('lab-shape').textContent = `${ctx.layers} blocks, hidden size ${H}, MLP ${I}`;
    $('lab-task').textContent = manifest.task.about;
    $('lab-full-accuracy').textContent = `${(100 * denseEval.accuracy).toFixed(1)}%`;
    if (denseEval.accuracy !== manifest.accuracy) throw new Error(`the model scores ${denseEval.accuracy} here, lab.json says ${manifest.accuracy}`);
    await Promise.all([mountRemoval(root, ctx), mountDepthUpscale(root, ctx), mountUpcycle(root, ctx)]);
    $('lab-status').textContent = 'Ready.';
    root.dataset.state = 'ready';
  } catch (e) {
    root.dataset.state = 'error';
    $('lab-status').textContent = `The lab stopped: ${e.message}`;
    throw e;
  }
}

export { mount };
