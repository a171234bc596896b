'use strict';
// What scripts/wasmerge does once its command line is parsed (wasmerge.js): reads a
// mergekit YAML, builds the job, runs it on the wasm engine (default) or the native one
// (--native), and reports progress, warnings and errors. --dry-run runs a `plan` job
// (headers only, nothing written), --list-methods a `describe` job; both print the
// engine's answer, as text or --json. extract-lora and eval build their own jobs.
const fs = require('fs');
const path = require('path');
const { UsageError } = require('./args');
const { createProgressBar, formatBytes } = require('./progress');
const { formatMethods, formatPlan } = require('./report');
const { runNativeJob } = require('./native_engine');
const { buildExtractJob } = require('./extract_args');
const { buildEvalJobOf, runEval, EvalInputError } = require('./eval_command');
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
    threads: opts.threads,
    memoryMb: opts.memoryMb,
    outShardSize: opts.outShardSize,
    randomSeed: opts.randomSeed,
    promptTokens,
  });
}

// engine: the started wasm engine (wasmerge.js), null with --native.
function runEngine(job, engine, onEvent) {
  return engine ? engine.run(job, onEvent)
    : runNativeJob(job, onEvent, { binary: path.join(ROOT, 'build/native/wasmerge-native') });
}

// Runs a describe or plan job and prints the one event it answers with (`expected`): as
// text (print), or as JSON, of what json picks from it.
async function query(job, expected, opts, engine, print, json = (event) => event) {
  let outcome = null;
  const status = await runEngine(job, engine, (event) => {
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

// opts: the parsed command line (wasmerge.js); -> the exit status.
async function runCommand(opts, engine) {
  let job;
  try {
    job = opts.mode === 'extract-lora' ? buildExtractJob(opts)
      : opts.mode === 'eval' ? buildEvalJobOf(opts) : buildJob(opts);
  } catch (e) {
    if (!(e instanceof UsageError) && !(e instanceof EvalInputError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return 1;
  }
  if (opts.mode === 'eval') return runEval(job, opts, (j, onEvent) => runEngine(j, engine, onEvent));
  if (opts.mode === 'list-methods') return query(job, 'methods', opts, engine, (e) => formatMethods(e.methods), (e) => e.methods);
  if (opts.mode === 'dry-run') return query(job, 'plan', opts, engine, (plan) => formatPlan(plan, opts));
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
  const status = await runEngine(job, engine, onEvent);
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

module.exports = { runCommand };
