'use strict';
// `scripts/wasmerge eval`: reads the text and each model's tokenizer files, tokenizes with
// the shared web/shared/eval_tokens.js, runs the eval job and prints the results in the
// order given (a table, or --json). Progress per model and layer on stderr.
const fs = require('fs');
const path = require('path');
const { evalTokens, textBytes } = require('../../web/shared/eval_tokens.js');
const { buildEvalJob } = require('../../web/shared/job.js');

class EvalInputError extends Error {}

const readIfThere = (file) => (fs.existsSync(file) && fs.statSync(file).isFile() ? fs.readFileSync(file, 'utf8') : null);

// The folder holding a model's tokenizer: what precedes a LoRA's '+adapter' (SPEC §8).
const folderOf = (model) => model.split('+')[0].replace(/\/+$/, '') || '.';

// opts (eval_args.js; threads as wasmerge.js resolved it) -> {job, json}; throws
// EvalInputError with the one line to print.
function buildEvalJobOf(opts) {
  let text;
  try {
    text = fs.readFileSync(opts.text, 'utf8');
  } catch (e) {
    throw new EvalInputError(`${opts.text}: cannot read the text (${e.code || e.message})`);
  }
  if (!text.length) throw new EvalInputError(`${opts.text}: the text to evaluate is empty`);
  const bytes = textBytes(text);
  const models = opts.models.map((model) => {
    const folder = folderOf(model);
    try {
      const tokens = evalTokens(text, readIfThere(path.join(folder, 'tokenizer.json')),
        readIfThere(path.join(folder, 'tokenizer_config.json')), folder);
      return { path: model, tokens, textBytes: bytes };
    } catch (e) {
      throw new EvalInputError(e.message);
    }
  });
  return buildEvalJob({ models, context: opts.context, threads: opts.threads, memoryMb: opts.memoryMb });
}

const fixed = (x, digits) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

function formatEvalTable(results) {
  const rows = [['model', 'tokens', 'nll', 'perplexity', 'bits/byte']].concat(
    results.map((r) => [r.model, String(r.tokens), fixed(r.nll, 4), fixed(r.perplexity, 3), fixed(r.bits_per_byte, 4)]));
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
    .join('  ').trimEnd()).join('\n') + '\n';
}

// Runs the job through runEngine(job, onEvent) -> status; prints; returns the exit status.
async function runEval(job, opts, runEngine) {
  const results = [];
  let failure = null;
  const tty = Boolean(process.stderr.isTTY);
  const names = opts.models;
  const status = await runEngine(job, (event) => {
    if (event.event === 'eval_start') {
      process.stderr.write(`${names[event.model]}: ${event.layers} layers, ${event.windows} windows` +
        `${event.groups > 1 ? ` in ${event.groups} groups` : ''}\n`);
    } else if (event.event === 'eval_layer') {
      if (tty) {
        const done = event.group * event.layers + event.layer + 1, total = event.groups * event.layers;
        process.stderr.write(`\r${names[event.model]}: layer ${done} of ${total}`);
        if (done === total) process.stderr.write('\n');
      }
    } else if (event.event === 'eval_result') {
      results.push({ model: names[event.model], tokens: event.tokens, nll: event.nll, perplexity: event.perplexity,
        bits_per_byte: event.bits_per_byte });
    } else if (event.event === 'warning') {
      process.stderr.write(`warning: ${event.message}\n`);
    } else if (event.event === 'error') {
      failure = event;
    }
  });
  if (failure) {
    process.stderr.write(`error: ${failure.message}\n`);
    return status || 1;
  }
  if (status !== 0 || results.length !== names.length) {
    process.stderr.write(`error: the engine stopped without every result (exit ${status})\n`);
    return status || 1;
  }
  const out = opts.json ? JSON.stringify(results, null, 2) + '\n' : formatEvalTable(results);
  await new Promise((resolve) => process.stdout.write(out, resolve));
  return 0;
}

module.exports = { buildEvalJobOf, runEval, formatEvalTable, EvalInputError };
