// What the merge will write, asked of the engine while the user edits (a plan job: the
// picked files' headers only, nothing written): the files and their exact sizes, the
// tensor count, the layer map of the result, or the engine's error for this config. The
// merge asks for a plan of its own before it starts (plan()), for the storage check.
import * as job from './shared/job.js';
import * as format from './shared/format.js';
import * as layerMap from './layer_map.js';
import { readPromptTokens } from './prompt_files.js';

const QUIET_MS = 300;  // plan once typing pauses this long

// plan (the plan event) -> its files in words: "model.safetensors, 1.4 MB"
function filesText(plan) {
  const bytes = plan.files.reduce((n, f) => n + f.bytes, 0);
  const names = plan.files.length === 1 ? plan.files[0].name
    : `${plan.files.length} shards${plan.index ? ' and model.safetensors.index.json' : ''}`;
  return `${names}, ${format.formatBytes(bytes)}`;
}

function summary(plan) {
  const merged = (plan.tensors || []).filter((t) => t.action === 'merge').length;
  const layers = plan.layers ? `; ${plan.layers.output} output layers` : '';
  const v = plan.vocabulary;
  const vocabulary = v ? ` Vocabulary (${v.source}): ${v.tokens} tokens, ${v.appended.length} new, ${v.rows} rows.` : '';
  const m = plan.moe;
  const moe = m ? ` A mixture of experts: ${m.architecture}, ${m.experts} experts, ${m.experts_per_token} per token` +
    `${m.shared_experts ? ', a shared expert' : ''}, gate_mode ${m.gate_mode}.` : '';
  return `Writes ${filesText(plan)}: ${plan.tensor_count} tensors (${merged} merged, ${plan.tensor_count - merged} copied)${layers}.` +
    vocabulary + moe;
}

// el: {root, summary, layerMap}; queries: engine_queries.js's; inputs() -> {files:
// [[path, File]], config, text, memoryMb} or null when there is nothing to plan.
function createPlanPreview({ el, queries, inputs }) {
  let timer = null;
  let asked = 0;  // answers to older questions are dropped

  function show(state, text, plan = null) {
    el.root.hidden = state === 'idle';
    el.root.dataset.state = state;
    el.summary.textContent = text;
    el.summary.classList.toggle('bad', state === 'error');
    layerMap.render(el.layerMap, plan ? plan.layers : null);
    if (plan) el.root.dataset.bytes = String(plan.files.reduce((n, f) => n + f.bytes, 0));  // for the tests
    else delete el.root.dataset.bytes;
  }

  // -> {plan, warnings} of the current config and picks; rejects with the engine's message
  // (an upcycling config's prompts go as token ids, as in the merge's job)
  async function plan(current = inputs()) {
    const promptTokens = await readPromptTokens(current.config, current.files);
    const { json } = job.buildJob({ kind: 'plan', config: current.config, configText: current.text, threads: 1,
      memoryMb: current.memoryMb, outShardSize: job.DEFAULT_OUT_SHARD_SIZE, promptTokens });
    return queries.plan(json, current.files);
  }

  async function refresh() {
    const current = inputs();
    const mine = ++asked;
    if (!current) return show('idle', '');
    show('planning', 'Reading the headers…');
    try {
      const { plan: p, warnings } = await plan(current);
      if (mine === asked) show('ready', [summary(p), ...warnings.map((w) => `Warning: ${w}`)].join(' '), p);
    } catch (e) {
      if (mine === asked) show('error', `The engine cannot merge this: ${e.message}`);
    }
  }

  return {
    // The config or the picks changed: plan again once the user pauses.
    changed() {
      clearTimeout(timer);
      ++asked;  // a plan still running answers an older config: its answer is dropped
      el.root.dataset.state = 'planning';  // what is shown is stale from now on
      timer = setTimeout(refresh, QUIET_MS);
    },
    plan,
  };
}

export { createPlanPreview };
