// Builds the engine's job (include/wasmerge/job.hpp) from a config. One file for every
// host: the node CLI (src/cli/wasmerge.js), the page (app.js) and the playground's worker,
// so a config means the same job wherever it is pasted.

export class ConfigError extends Error {}

// What a job gets when its host says nothing: the engine's own defaults (job.hpp), which
// the CLI's flags and the page's fields start from.
export const DEFAULT_MEMORY_MB = 1024;
export const DEFAULT_OUT_SHARD_SIZE = 5e9;  // mergekit's 5 GB shards

// kind: 'merge' (the default, left out of the JSON) | 'analyze' | 'plan' | 'describe'
// (job.hpp). A describe job carries nothing else; a plan writes nothing, so it has no
// out_dir. explain: {tensor, offset, count} or null. randomSeed: null, or the seed's
// decimal digits as text (a u64 that a double would round). promptTokens: an upcycling
// config's prompts as token ids ({text: [ids]}, shared/prompt_tokens.js), or null.
// -> {job (the object), json (its text, the one to send)}
export function buildJob({ kind = 'merge', config, configText, outDir, threads, memoryMb, outShardSize, randomSeed = null,
  explain = null, promptTokens = null }) {
  const job = kind === 'merge' ? {} : { kind };
  if (kind !== 'describe') {
    Object.assign(job, { config, config_text: configText });
    if (kind !== 'plan') job.out_dir = outDir;
    Object.assign(job, { threads, memory_mb: memoryMb, out_shard_size: outShardSize, random_seed: null });
    if (explain) job.explain = explain;
    if (promptTokens) job.prompt_tokens = promptTokens;
  }
  let json = JSON.stringify(job);
  // Splice the seed's digits into the JSON so no double rounds it: into the job's own key,
  // the last one (the config before it may hold a "random_seed":null of its own; what
  // follows, explain and prompt_tokens, holds none).
  if (randomSeed !== null && randomSeed !== undefined) {
    if (!/^\d+$/.test(String(randomSeed))) throw new ConfigError(`random seed must be a non-negative integer, not '${randomSeed}'`);
    const own = json.lastIndexOf('"random_seed":null');
    json = json.slice(0, own) + `"random_seed":${randomSeed}` + json.slice(own + '"random_seed":null'.length);
  }
  return { job, json };
}

// An extract_lora job (job.hpp): a PEFT adapter of model - base, no config. The CLI
// (src/cli/extract_args.js) and the page (extract_form.js) build it here, so the same
// picks give the same job text, and so the same adapter bytes.
// -> {job, json}
export function buildExtractJob({ base, model, rank, outDir, svEpsilon = 0, distributeScale = true, embedLora = false,
  include = null, exclude = null, dtype = null, threads, memoryMb }) {
  const job = {
    kind: 'extract_lora', base, model, rank, out_dir: outDir, sv_epsilon: svEpsilon, distribute_scale: distributeScale,
    embed_lora: embedLora, include, exclude, dtype, threads, memory_mb: memoryMb,
  };
  return { job, json: JSON.stringify(job) };
}

// An eval job (include/wasmerge/eval.hpp): each model with the text's token ids through its
// own tokenizer (shared/eval_tokens.js) and the text's UTF-8 bytes; context null: the
// model's default window. The CLI (scripts/wasmerge eval) and the page build it here.
// models: [{path, tokens, textBytes}] -> {job, json}
export function buildEvalJob({ models, context = null, threads, memoryMb }) {
  const job = {
    kind: 'eval',
    models: models.map((m) => ({ path: m.path, tokens: m.tokens, text_bytes: m.textBytes })),
    context, threads, memory_mb: memoryMb,
  };
  return { job, json: JSON.stringify(job) };
}
