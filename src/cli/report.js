'use strict';
// Text forms of the engine's `methods` event (--list-methods) and `plan` event
// (--dry-run). Everything shown comes from the event: no method or default is known here.
const { formatBytes } = require('../../web/shared/format.js');

function rangeText(p) {
  const hasMin = p.min !== undefined && p.min !== null;
  const hasMax = p.max !== undefined && p.max !== null;
  if (hasMin && hasMax) return `${p.min_exclusive ? '(' : '['}${p.min}, ${p.max}${p.max_exclusive ? ')' : ']'}`;
  if (hasMin) return `${p.min_exclusive ? '>' : '>='} ${p.min}`;
  if (hasMax) return `${p.max_exclusive ? '<' : '<='} ${p.max}`;
  return '';
}

function paramText(p) {
  const parts = [p.scope === 'model' ? 'per model' : 'global', p.kind];
  if (p.kind === 'choice' && p.choices) parts.push(p.choices.join(' | '));
  const range = rangeText(p);
  if (range) parts.push(`in ${range}`);
  if (p.default !== null && p.default !== undefined)
    parts.push(`default ${typeof p.default === 'string' ? p.default : JSON.stringify(p.default)}`);
  else parts.push(p.required ? 'required' : 'optional');
  return parts.join(', ');
}

function modelsText({ min, max }) {
  const noun = (n) => (n === 1 ? 'model' : 'models');
  if (max === null || max === undefined) return `${min} or more ${noun(2)}`;
  if (min === max) return `exactly ${min} ${noun(min)}`;
  return `${min} to ${max} models`;
}

function formatMethods(methods) {
  return methods.map((m) => {
    const lines = [`${m.name}: ${m.title}${m.url ? ` (${m.url})` : ''}`];
    if (m.summary) lines.push(`  ${m.summary}`);
    if (m.formula) lines.push(`  ${m.formula}`);
    const base = m.needs_base ? ', needs base_model' : m.takes_base ? ', base_model optional' : '';
    lines.push(`  ${modelsText(m.models)}${base}`);
    const width = Math.max(0, ...m.params.map((p) => p.name.length));
    for (const p of m.params) lines.push(`  ${p.name.padEnd(width)}  ${paramText(p)}`);
    return lines.join('\n');
  }).join('\n\n') + '\n';
}

// [first, end) -> '0-23', or '5' for one layer.
function layersText([first, end]) {
  if (end - first === 1) return String(first);
  if (end <= first) return '(none)';
  return `${first}-${end - 1}`;
}

// The layer map's lines: `output layers 0-23 <- ./mistral:0-23`.
function layerMapLines(layers) {
  if (!layers || !layers.map) return [];
  return layers.map.map((entry) => {
    const [first, end] = entry.output;
    const label = end - first === 1 ? 'output layer' : 'output layers';
    return `${label} ${layersText(entry.output)} <- ${entry.sources.map((s) => `${s.model}:${layersText(s.layers)}`).join(', ')}`;
  });
}

function bytesText(n) {
  return n >= 1000 ? `${formatBytes(n)} (${n} bytes)` : `${n} bytes`;
}

// A vocabulary change in one line: `vocabulary (union, tokenizer of ./base): 66 tokens, 2
// new (<|im_start|>, <|im_end|>), 80 rows; ./base lacks 2`.
function vocabularyText(plan) {
  const v = plan.vocabulary;
  if (!v) return null;
  const shown = v.appended.slice(0, 8).join(', ') + (v.appended.length > 8 ? ', …' : '');
  const lacking = v.models.filter((m) => m.missing).map((m) => `${m.model} lacks ${m.missing}`);
  return `vocabulary (${v.source}, tokenizer of ${v.tokenizer}): ${v.tokens} tokens, ${v.appended.length} new` +
    `${shown ? ` (${shown})` : ''}, ${v.rows} rows${lacking.length ? `; ${lacking.join(', ')}` : ''}`;
}

// An upcycling in one line: `mixture of experts: mixtral, 4 experts, 2 per token, gate_mode random`.
function moeText(moe) {
  return `mixture of experts: ${moe.architecture}, ${moe.experts} experts, ${moe.experts_per_token} per token` +
    `${moe.shared_experts ? `, ${moe.shared_experts} shared` : ''}, gate_mode ${moe.gate_mode}`;
}

function formatPlan(plan, { config, outDir }) {
  const lines = [`dry run of ${config}: nothing written`];
  const where = outDir ? `${outDir.replace(/\/+$/, '')}/` : '';
  const width = Math.max(0, ...plan.files.map((f) => (where + f.name).length));
  lines.push(plan.files.length === 1 ? 'would write:' : `would write ${plan.files.length} shards:`);
  for (const f of plan.files) lines.push(`  ${(where + f.name).padEnd(width)}  ${bytesText(f.bytes)}`);
  if (plan.index) lines.push(`  ${where}model.safetensors.index.json`);
  const copied = plan.tensors ? plan.tensors.filter((t) => t.action === 'copy').length : 0;
  lines.push(`${plan.tensor_count} tensors (${plan.tensor_count - copied} merged, ${copied} copied); ` +
    `reads ${bytesText(plan.input_bytes)} of tensor data, writes ${bytesText(plan.output_bytes)}`);
  const map = layerMapLines(plan.layers);
  if (map.length) {
    lines.push(`layer map (${plan.layers.output} output layers):`);
    for (const l of map) lines.push(`  ${l}`);
  }
  const vocabulary = vocabularyText(plan);
  if (vocabulary) lines.push(vocabulary);
  if (plan.chat_template) lines.push(`chat_template: ${plan.chat_template}`);
  if (plan.moe) lines.push(moeText(plan.moe));
  const edits = Object.entries(plan.config_edits || {});
  if (edits.length) lines.push(`config.json: ${edits.map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(', ')}`);
  return lines.join('\n') + '\n';
}

module.exports = { formatMethods, formatPlan, layerMapLines, moeText };
