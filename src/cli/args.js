'use strict';
// Command line of scripts/wasmerge: a merge, a dry run (--dry-run) or the method
// catalogue (--list-methods).

// The budget and shard-size defaults: the ones the page starts from too.
const { DEFAULT_MEMORY_MB, DEFAULT_OUT_SHARD_SIZE } = require('../../web/shared/job.js');

// 5e9 -> '5G' (the form the usage text and mergekit use), else the bytes.
function sizeText(bytes) {
  return bytes % 1e9 === 0 ? `${bytes / 1e9}G` : bytes % 1e6 === 0 ? `${bytes / 1e6}M` : String(bytes);
}

const USAGE = `usage: wasmerge CONFIG OUT_DIR [--random-seed N] [--threads N] [--memory-mb N]
                [--out-shard-size SIZE] [--native]
       wasmerge --dry-run CONFIG [OUT_DIR] [--json] [--threads N] [--memory-mb N]
                [--out-shard-size SIZE] [--native]
       wasmerge --list-methods [--json] [--native]
       wasmerge extract-lora --base BASE --model FINE_TUNE --rank R OUT_DIR [...]
                (a LoRA adapter of a fine-tune; wasmerge extract-lora --help)
       wasmerge eval --text FILE [--context C] [--json] MODEL...
                (perplexity of models on a text; wasmerge eval --help)

CONFIG is a mergekit YAML (or JSON) file; model paths resolve against the current folder.
SIZE is bytes, or a number with K/M/G/B (10^3, 10^6, 10^9, 10^9 as mergekit) or
KiB/MiB/GiB (powers of 2). Defaults: all cores, ${DEFAULT_MEMORY_MB} MB, ${sizeText(DEFAULT_OUT_SHARD_SIZE)}.

--dry-run reads only the models' headers and prints what the merge would write (files
and their exact sizes, tensor count, layer map, config.json edits); it writes nothing.
--list-methods prints the merge methods with their parameters. --json prints either as
the engine reports it.`;

class UsageError extends Error {}

function parseSize(text) {
  const m = /^(\d+(?:\.\d+)?)\s*(k|kb|m|mb|g|gb|b|kib|mib|gib)?$/i.exec(String(text).trim());
  if (!m) throw new UsageError(`--out-shard-size: cannot read '${text}' as a size`);
  const unit = (m[2] || '').toLowerCase();
  const scale = { '': 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, b: 1e9,
                  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 }[unit];
  const bytes = Math.floor(Number(m[1]) * scale);
  if (bytes < 1) throw new UsageError('--out-shard-size must be at least one byte');
  return bytes;
}

function positiveInt(flag, text, { allowZero = false } = {}) {
  if (!/^\d+$/.test(String(text)) || (!allowZero && Number(text) === 0))
    throw new UsageError(`${flag} expects a ${allowZero ? 'non-negative' : 'positive'} integer, not '${text}'`);
  return text;
}

// -> { mode: 'merge' | 'dry-run' | 'list-methods', config, outDir, json, threads, memoryMb,
//      outShardSize, randomSeed, native }
function parseArgs(argv) {
  const opts = { mode: 'merge', json: false, threads: null, memoryMb: DEFAULT_MEMORY_MB,
                 outShardSize: DEFAULT_OUT_SHARD_SIZE, randomSeed: null, native: false };
  const positional = [];
  let dryRun = false;
  let listMethods = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--native') opts.native = true;
    else if (a === '--dry-run') dryRun = true;
    else if (a === '--list-methods') listMethods = true;
    else if (a === '--json') opts.json = true;
    else if (a === '--threads') opts.threads = Number(positiveInt(a, value()));
    else if (a === '--memory-mb') opts.memoryMb = Number(positiveInt(a, value()));
    else if (a === '--out-shard-size') opts.outShardSize = parseSize(value());
    else if (a === '--random-seed') opts.randomSeed = positiveInt(a, value(), { allowZero: true });  // kept as text: u64
    else if (a === '-h' || a === '--help') throw new UsageError('');
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else positional.push(a);
  }
  if (dryRun && listMethods) throw new UsageError('--dry-run and --list-methods do not go together');
  if (listMethods) {
    if (positional.length) throw new UsageError('--list-methods takes no CONFIG or OUT_DIR');
    opts.mode = 'list-methods';
    return opts;
  }
  if (dryRun) {
    if (positional.length < 1 || positional.length > 2) throw new UsageError('--dry-run expects CONFIG and optionally OUT_DIR');
    opts.mode = 'dry-run';
    [opts.config, opts.outDir = null] = positional;
    return opts;
  }
  if (opts.json) throw new UsageError('--json goes with --dry-run or --list-methods');
  if (positional.length !== 2) throw new UsageError('expected CONFIG and OUT_DIR');
  [opts.config, opts.outDir] = positional;
  return opts;
}

module.exports = { parseArgs, parseSize, sizeText, UsageError, USAGE, DEFAULT_MEMORY_MB, DEFAULT_OUT_SHARD_SIZE };
