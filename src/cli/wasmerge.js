'use strict';
// scripts/wasmerge: parses the command line, starts the wasm engine, then runs the command
// (command.js). The engine starts first: booting its worker, compiling the wasm and
// starting the pool's thread (~80 ms) then overlap with loading the command's modules and
// reading its config, which took ~35 ms off every run.
const os = require('os');
const path = require('path');
const { parseArgs, UsageError, USAGE } = require('./args');
const { parseExtractArgs, ExtractUsageError, EXTRACT_USAGE } = require('./extract_args');
const { parseEvalArgs, EvalUsageError, EVAL_USAGE } = require('./eval_args');
const { startWasmEngine } = require('../wasm/node_engine');

const ROOT = path.resolve(__dirname, '../..');

// -> opts, or the exit status of a usage error (2) or of --help (0).
function parseCommandLine(argv) {
  try {
    const opts = argv[0] === 'extract-lora' ? parseExtractArgs(argv.slice(1))
      : argv[0] === 'eval' ? parseEvalArgs(argv.slice(1)) : parseArgs(argv);
    // A dry run plans on one thread; everything else uses every core unless told.
    if (opts.mode !== 'list-methods') opts.threads = opts.threads || (opts.mode === 'dry-run' ? 1 : os.cpus().length);
    return opts;
  } catch (e) {
    if (!(e instanceof UsageError) && !(e instanceof ExtractUsageError) && !(e instanceof EvalUsageError)) throw e;
    const usage = e instanceof ExtractUsageError ? EXTRACT_USAGE : e instanceof EvalUsageError ? EVAL_USAGE : USAGE;
    process.stderr.write((e.message ? `error: ${e.message}\n` : '') + usage + '\n');
    return e.message ? 2 : 0;
  }
}

async function main(argv) {
  const opts = parseCommandLine(argv);
  if (typeof opts === 'number') return opts;
  // The engine's heap and pool come from the budget and thread count, as its job will ask.
  const engine = opts.native ? null : startWasmEngine({
    buildDir: path.join(ROOT, 'build/wasm'),
    memoryMb: opts.mode === 'list-methods' ? 0 : opts.memoryMb,
    threads: opts.threads,
  });
  // Loaded only now, while the engine starts.
  const { runCommand } = require('./command');
  return runCommand(opts, engine);
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
