'use strict';
// Command line of `scripts/wasmerge eval`: every model's NLL, perplexity and bits per byte
// on one text (SPEC §9; the engine's eval job, include/wasmerge/eval.hpp).
const { DEFAULT_MEMORY_MB } = require('../../web/shared/job.js');

const EVAL_USAGE = `usage: wasmerge eval --text FILE [--context C] [--threads N] [--memory-mb N]
                [--json] [--native] MODEL...

Scores each MODEL (a folder with config.json and tokenizer.json; FOLDER+ADAPTER for a LoRA
applied on the fly) on the UTF-8 text in FILE, tokenized by the model's own tokenizer with
its special tokens: the text is cut into windows of C tokens (default min(512,
max_position_embeddings)), and each token after a window's first is predicted from the ones
before it. Prints per model: tokens, nll (mean negative log-likelihood, nats per token),
perplexity = exp(nll), and bits per byte = total nll / ln 2 / the text's bytes (comparable
across tokenizers). --json prints [{"model","tokens","nll","perplexity","bits_per_byte"}].
Defaults: all cores, ${DEFAULT_MEMORY_MB} MB.`;

class EvalUsageError extends Error {}

function positiveInt(flag, text, least = 1) {
  if (!/^\d+$/.test(String(text)) || Number(text) < least)
    throw new EvalUsageError(`${flag} expects an integer of at least ${least}, not '${text}'`);
  return Number(text);
}

// argv after `eval` -> { mode: 'eval', text, context, threads, memoryMb, json, native, models }
function parseEvalArgs(argv) {
  const opts = { mode: 'eval', text: null, context: null, threads: null, memoryMb: DEFAULT_MEMORY_MB, json: false,
                 native: false, models: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new EvalUsageError(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--native') opts.native = true;
    else if (a === '--json') opts.json = true;
    else if (a === '--text') opts.text = value();
    else if (a === '--context') opts.context = positiveInt(a, value(), 2);
    else if (a === '--threads') opts.threads = positiveInt(a, value());
    else if (a === '--memory-mb') opts.memoryMb = positiveInt(a, value());
    else if (a === '-h' || a === '--help') throw new EvalUsageError('');
    else if (a.startsWith('-')) throw new EvalUsageError(`unknown option ${a}`);
    else opts.models.push(a);
  }
  if (!opts.text) throw new EvalUsageError('eval needs --text FILE');
  if (!opts.models.length) throw new EvalUsageError('eval needs at least one MODEL');
  return opts;
}

module.exports = { parseEvalArgs, EvalUsageError, EVAL_USAGE };
