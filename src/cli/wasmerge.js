'use strict';
// scripts/wasmerge: reads a mergekit YAML, builds the job, runs it on the wasm engine
// (default) or the native one (--native), and reports progress, warnings and errors.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { parseArgs, UsageError, USAGE } = require('./args');
const { createProgressBar, formatBytes } = require('./progress');
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

async function main(argv) {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write((e.message ? `error: ${e.message}\n` : '') + USAGE + '\n');
    return e.message ? 2 : 0;
  }
  let job;
  try {
    job = buildJob(opts);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return 1;
  }
  fs.mkdirSync(opts.outDir, { recursive: true });

  const bar = createProgressBar();
  const started = Date.now();
  let outcome = null;
  const onEvent = (event) => {
    if (event.event === 'progress') bar.update(event);
    else if (event.event === 'warning') { bar.finish(); process.stderr.write(`warning: ${event.message}\n`); }
    else outcome = event;
  };
  const status = opts.native
    ? await runNativeJob(job, onEvent, { binary: path.join(ROOT, 'build/native/wasmerge-native') })
    : await runWasmJob(job, onEvent, { buildDir: path.join(ROOT, 'build/wasm') });
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
  return status;
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
