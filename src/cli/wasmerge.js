'use strict';
// scripts/wasmerge: reads a mergekit YAML, builds the job, runs it on the wasm engine
// (default) or the native one (--native), and reports progress, warnings and errors.
// --dry-run runs a `plan` job (headers only, nothing written), --list-methods a
// `describe` job; both print the engine's answer, as text or --json.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { parseArgs, UsageError, USAGE } = require('./args');
const { createProgressBar, formatBytes } = require('./progress');
const { formatMethods, formatPlan } = require('./report');
const { runNativeJob } = require('./native_engine');
const { parseExtractArgs, buildExtractJob, ExtractUsageError, EXTRACT_USAGE } = require('./extract_args');
const { parseEvalArgs, EvalUsageError, EVAL_USAGE } = require('./eval_args');
const { buildEvalJobOf, runEval, EvalInputError } = require('./eval_command');
const { runWasmJob } = require('../wasm/node_engine');
const { buildJob: makeJob, ConfigError } = require('../../web/shared/job.js');
const { parseConfigText } = require('../../web/shared/config_text.js');
const { readPromptTokens } = require('./prompt_files');

const ROOT = path.resolve(__dirname, '../..');

function readConfig(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${file}: cannot read the config (${e.code || e.message})`);
  }
  try {
    return { text, config: parseConfigText(text, file) };
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
}

// The job of opts.mode: a merge, a dry run (a plan job: it writes nothing) or the catalogue
// (a describe job: no config). An upcycling config's prompts go as token ids.
function buildJob(opts) {
  if (opts.mode === 'list-methods') return makeJob({ kind: 'describe' });
  const { text, config } = readConfig(opts.config);
  const dryRun = opts.mode === 'dry-run';
  let promptTokens;
  try {
    promptTokens = readPromptTokens(config);
  } catch (e) {
    throw new UsageError(`${opts.config}: ${e.message}`);
  }
  return makeJob({
    kind: dryRun ? 'plan' : 'merge',
    config,
    configText: text,
    outDir: opts.outDir,
    threads: opts.threads || (dryRun ? 1 : os.cpus().length),
    memoryMb: opts.memoryMb,
    outShardSize: opts.outShardSize,
    randomSeed: opts.randomSeed,
    promptTokens,
  });
}

function runEngine(job, opts, onEvent) {
  return opts.native
    ? runNativeJob(job, onEvent, { binary: path.join(ROOT, 'build/native/wasmerge-native') })
    : runWasmJob(job, onEvent, { buildDir: path.join(ROOT, 'build/wasm') });
}

// Runs a describe or plan job and prints the one event it answers with (`expected`): as
// text (print), or as JSON, of what json picks from it.
async function query(job, expected, opts, print, json = (event) => event) {
  let outcome = null;
  const status = await runEngine(job, opts, (event) => {
    if (event.event === 'warning') process.stderr.write(`warning: ${event.message}\n`);
    else if (event.event !== 'progress' && event.event !== 'forward') outcome = event;
  });
  if (outcome && outcome.event === 'error') {
    process.stderr.write(`error: ${outcome.message}\n`);
    return status || 1;
  }
  if (status !== 0 || !outcome || outcome.event !== expected) {
    process.stderr.write(`error: the engine answered no ${expected} event (exit ${status}` +
      `${outcome ? `, got a ${outcome.event} event` : ''})\n`);
    return status || 1;
  }
  const text = opts.json ? JSON.stringify(json(outcome), null, 2) + '\n' : print(outcome);
  await new Promise((resolve) => process.stdout.write(text, resolve));
  return 0;
}

async function main(argv) {
  let opts;
  try {
    opts = argv[0] === 'extract-lora' ? parseExtractArgs(argv.slice(1))
      : argv[0] === 'eval' ? parseEvalArgs(argv.slice(1)) : parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError) && !(e instanceof ExtractUsageError) && !(e instanceof EvalUsageError)) throw e;
    const usage = e instanceof ExtractUsageError ? EXTRACT_USAGE : e instanceof EvalUsageError ? EVAL_USAGE : USAGE;
    process.stderr.write((e.message ? `error: ${e.message}\n` : '') + usage + '\n');
    return e.message ? 2 : 0;
  }
  let job;
  try {
    const threads = opts.threads || os.cpus().length;
    job = opts.mode === 'extract-lora' ? buildExtractJob(opts, threads)
      : opts.mode === 'eval' ? buildEvalJobOf(opts, threads) : buildJob(opts);
  } catch (e) {
    if (!(e instanceof UsageError) && !(e instanceof EvalInputError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return 1;
  }
  if (opts.mode === 'eval') return runEval(job, opts, (j, onEvent) => runEngine(j, opts, onEvent));
  if (opts.mode === 'list-methods') return query(job, 'methods', opts, (e) => formatMethods(e.methods), (e) => e.methods);
  if (opts.mode === 'dry-run') return query(job, 'plan', opts, (plan) => formatPlan(plan, opts));
  // The native engine writes into an existing folder; one this run made goes again if the
  // merge fails before writing anything (a config or file error leaves no folder behind).
  const madeDir = fs.mkdirSync(opts.outDir, { recursive: true });

  const bar = createProgressBar();
  const started = Date.now();
  let outcome = null;
  const onEvent = (event) => {
    if (event.event === 'progress') bar.update(event);
    else if (event.event === 'forward') bar.forward(event);
    else if (event.event === 'warning') { bar.finish(); process.stderr.write(`warning: ${event.message}\n`); }
    else outcome = event;
  };
  const status = await runEngine(job, opts, onEvent);
  bar.finish();
  if (outcome && outcome.event === 'done') {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stderr.write(`wrote ${outcome.files.map((f) => path.join(opts.outDir, f)).join(', ')} ` +
      `(${outcome.tensor_count} tensors, ${formatBytes(outcome.tensor_bytes)}) in ${seconds}s` +
      (outcome.bytes_read === undefined ? '' : `, read ${formatBytes(outcome.bytes_read)}`) + '\n');
  } else if (outcome && outcome.event === 'error') {
    process.stderr.write(`error: ${outcome.message}\n`);
  } else if (status !== 0) {
    process.stderr.write(`error: the engine stopped without a result (exit ${status})\n`);
  }
  if (status !== 0 && madeDir) removeEmptyFolders(opts.outDir, madeDir);
  return status;
}

// Removes dir and its parents up to top (the first folder mkdir made), those that are empty.
function removeEmptyFolders(dir, top) {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    try {
      fs.rmdirSync(d);
    } catch {
      return;  // not empty (or gone): keep it and its parents
    }
    if (d === path.resolve(top)) return;
  }
}

// Should the engine never settle (a module that fails to start), do not exit 0.
process.on('beforeExit', () => {
  process.stderr.write('error: internal: the engine stopped without a result\n');
  process.exit(1);
});

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (e) => {
    process.stderr.write(`error: internal: ${e.message}\n`);
    process.exit(1);
  });
