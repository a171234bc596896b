// The method card's "Extract a LoRA" fields (index.html's #extract-fields): which picked
// model is the base and which the fine-tune, the rank, and the options of
// `scripts/wasmerge extract-lora` (sv_epsilon, distribute scale, embed lora). No YAML: an
// extraction has no mergekit config, so these fields are the whole job (shared/job.js's
// buildExtractJob, as the CLI builds it).
import { buildExtractJob } from './shared/job.js';

export const DEFAULT_RANK = 16;

const isBase = (name) => /(^|[/_.-])base([/_.-]|$)/i.test(name);

// el: {base, model, rank, svEpsilon, distributeScale, embedLora}
function createExtractForm(el) {
  el.rank.placeholder = String(DEFAULT_RANK);
  el.rank.value = String(DEFAULT_RANK);

  // Keeps the user's pick while it is still among the models; else the one called base
  // (or the first) is the base and the first other model the fine-tune.
  function fill(select, names, wanted) {
    const current = names.includes(select.value) ? select.value : wanted;
    select.replaceChildren(...names.map((n) => new Option(n, n)));
    select.value = current || '';
  }

  // models: the picked models ({name}); disabled: a run is going.
  function render({ models, disabled }) {
    const names = models.map((m) => m.name);
    const base = names.includes(el.base.value) ? el.base.value : names.find(isBase) || names[0];
    fill(el.base, names, base);
    fill(el.model, names, names.find((n) => n !== el.base.value) || names[0]);
    for (const c of Object.values(el)) c.disabled = disabled;
  }

  // -> {job, json} for these fields, or throws an Error saying what is wrong with them.
  function job({ threads, memoryMb, outDir }) {
    const base = el.base.value;
    const model = el.model.value;
    if (!base || !model) throw new Error('Pick a base model and its fine-tune first.');
    if (base === model) throw new Error('The base and the fine-tune are the same model: the adapter would be empty. Pick two models.');
    const rankText = el.rank.value.trim() || String(DEFAULT_RANK);
    if (!/^\d+$/.test(rankText) || Number(rankText) < 1) throw new Error(`The rank must be a whole number of at least 1, not “${rankText}”.`);
    const epsText = el.svEpsilon.value.trim() || '0';
    // The CLI's --sv-epsilon grammar: a plain non-negative decimal.
    if (!/^(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(epsText)) throw new Error(`sv_epsilon must be a non-negative number, not “${epsText}”.`);
    return buildExtractJob({ base, model, rank: Number(rankText), outDir, svEpsilon: Number(epsText),
      distributeScale: el.distributeScale.checked, embedLora: el.embedLora.checked, threads, memoryMb });
  }

  return { render, job };
}

export { createExtractForm };
