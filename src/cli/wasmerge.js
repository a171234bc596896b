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
const { runWasmJob } = require('../wasm/node_engine');
const { parseConfigText, buildJob: makeJob, ConfigError } = require('../../web/job');

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

function buildJob(opts) {
  const { text, config } = readConfig(opts.config);
  return makeJob({
    config,
    configText: text,
    outDir: opts.outDir,
    threads: opts.threads || os.cpus().length,
    memoryMb: opts.memoryMb,
    outShardSize: opts.outShardSize,
    randomSeed: opts.randomSeed,
  });
}

// A dry run: the plan job of the engine's protocol (no out_dir: it writes nothing).
function buildPlanJob(opts) {
  const { text, config } = readConfig(opts.config);
  const job = { kind: 'plan', config, config_text: text, threads: opts.threads || 1,
                memory_mb: opts.memoryMb, out_shard_size: opts.outShardSize };
  return { job, json: JSON.stringify(job) };
}

function describeJob() {
  const job = { kind: 'describe' };
  return { job, json: JSON.stringify(job) };
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
    else if (event.event !== 'progress') outcome = event;
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
    opts = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write((e.message ? `error: ${e.message}\n` : '') + USAGE + '\n');
    return e.message ? 2 : 0;
  }
  if (opts.mode === 'list-methods') return query(describeJob(), 'methods', opts, (e) => formatMethods(e.methods), (e) => e.methods);
  let job;
  try {
    job = opts.mode === 'dry-run' ? buildPlanJob(opts) : buildJob(opts);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return 1;
  }
  if (opts.mode === 'dry-run') return query(job, 'plan', opts, (plan) => formatPlan(plan, opts));
  // The native engine writes into an existing folder; one this run made goes again if the
  // merge fails before writing anything (a config or file error leaves no folder behind).
  const madeDir = fs.mkdirSync(opts.outDir, { recursive: true });

  const bar = createProgressBar();
  const started = Date.now();
  let outcome = null;
  const onEvent = (event) => {
    if (event.event === 'progress') bar.update(event);
    else if (event.event === 'warning') { bar.finish(); process.stderr.write(`warning: ${event.message}\n`); }
    else outcome = event;
  };
  const status = await runEngine(job, opts, onEvent);
  bar.finish();
  if (outcome && outcome.event === 'done') {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stderr.write(`wrote ${outcome.files.map((f) => path.join(opts.outDir, f)).join(', ')} ` +
      `(${outcome.tensor_count} tensors, ${formatBytes(outcome.tensor_bytes)}) in ${seconds}s\n`);
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
