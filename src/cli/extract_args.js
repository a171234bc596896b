'use strict';
// Command line of `scripts/wasmerge extract-lora`: a PEFT LoRA adapter of a fine-tune's
// difference from its base (the engine's extract_lora job, include/wasmerge/job.hpp).
const { DEFAULT_MEMORY_MB, buildExtractJob: buildJobOf } = require('../../web/shared/job.js');

const EXTRACT_USAGE = `usage: wasmerge extract-lora --base BASE --model FINE_TUNE --rank R OUT_DIR
                [--sv-epsilon E] [--no-distribute-scale] [--embed-lora]
                [--include REGEX] [--exclude REGEX] [--dtype DTYPE]
                [--threads N] [--memory-mb N] [--native]

Writes OUT_DIR/adapter_model.safetensors and OUT_DIR/adapter_config.json: every 2-D
layer tensor's difference FINE_TUNE - BASE as lora_A = sqrt(S)·Vᵀ [R, in] and
lora_B = U·sqrt(S) [out, R] from its top R singular values (lora_alpha = R).
Embeddings, output heads and 1-D tensors that changed go to modules_to_save whole.
  --sv-epsilon E         drop singular values below E (rank_pattern lists the modules
                         whose rank ends lower)
  --no-distribute-scale  lora_A = S·Vᵀ, lora_B = U
  --embed-lora           embeddings as lora_embedding_A/B, output heads as lora_A/B
  --include/--exclude    only tensors whose name matches / does not match REGEX
  --dtype DTYPE          the factors' dtype (float32, bfloat16, float16); default: the
                         fine-tune's
Defaults: all cores, ${DEFAULT_MEMORY_MB} MB.`;

class ExtractUsageError extends Error {}

function positiveInt(flag, text) {
  if (!/^\d+$/.test(String(text)) || Number(text) === 0)
    throw new ExtractUsageError(`${flag} expects a positive integer, not '${text}'`);
  return Number(text);
}

// argv after `extract-lora` -> { mode: 'extract-lora', base, model, rank, outDir, svEpsilon,
//   distributeScale, embedLora, include, exclude, dtype, threads, memoryMb, native }
function parseExtractArgs(argv) {
  const opts = { mode: 'extract-lora', base: null, model: null, rank: null, outDir: null, svEpsilon: 0,
                 distributeScale: true, embedLora: false, include: null, exclude: null, dtype: null,
                 threads: null, memoryMb: DEFAULT_MEMORY_MB, native: false };
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new ExtractUsageError(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--native') opts.native = true;
    else if (a === '--base') opts.base = value();
    else if (a === '--model') opts.model = value();
    else if (a === '--rank') opts.rank = positiveInt(a, value());
    else if (a === '--sv-epsilon') {
      const text = value();
      if (!/^(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text))
        throw new ExtractUsageError(`--sv-epsilon expects a non-negative number, not '${text}'`);
      opts.svEpsilon = Number(text);
    } else if (a === '--no-distribute-scale') opts.distributeScale = false;
    else if (a === '--embed-lora') opts.embedLora = true;
    else if (a === '--include') opts.include = value();
    else if (a === '--exclude') opts.exclude = value();
    else if (a === '--dtype') opts.dtype = value();
    else if (a === '--threads') opts.threads = positiveInt(a, value());
    else if (a === '--memory-mb') opts.memoryMb = positiveInt(a, value());
    else if (a === '-h' || a === '--help') throw new ExtractUsageError('');
    else if (a.startsWith('-')) throw new ExtractUsageError(`unknown option ${a}`);
    else positional.push(a);
  }
  if (!opts.base || !opts.model || opts.rank === null)
    throw new ExtractUsageError('extract-lora needs --base, --model and --rank');
  if (positional.length !== 1) throw new ExtractUsageError('extract-lora expects one OUT_DIR');
  opts.outDir = positional[0];
  return opts;
}

// The engine's job, as the wasm engine's run() and runNativeJob take it: {job, json}.
// Built by web/shared/job.js, as the page's "Extract a LoRA" mode builds it.
// opts.threads: as wasmerge.js resolved it (every core unless told).
function buildExtractJob(opts) {
  return buildJobOf({ base: opts.base, model: opts.model, rank: opts.rank, outDir: opts.outDir, svEpsilon: opts.svEpsilon,
    distributeScale: opts.distributeScale, embedLora: opts.embedLora, include: opts.include, exclude: opts.exclude,
    dtype: opts.dtype, threads: opts.threads, memoryMb: opts.memoryMb });
}

module.exports = { parseExtractArgs, buildExtractJob, ExtractUsageError, EXTRACT_USAGE };
