'use strict';
// Command line of scripts/wasmerge.
const USAGE = `usage: wasmerge CONFIG OUT_DIR [--random-seed N] [--threads N] [--memory-mb N]
                [--out-shard-size SIZE] [--native]

CONFIG is a mergekit YAML (or JSON) file; model paths resolve against the current folder.
SIZE is bytes, or a number with K/M/G/B (10^3, 10^6, 10^9, 10^9 as mergekit) or
KiB/MiB/GiB (powers of 2). Defaults: all cores, 1024 MB, 5G.`;

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

function parseArgs(argv) {
  const opts = { threads: null, memoryMb: 1024, outShardSize: 5e9, randomSeed: null, native: false };
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--native') opts.native = true;
    else if (a === '--threads') opts.threads = Number(positiveInt(a, value()));
    else if (a === '--memory-mb') opts.memoryMb = Number(positiveInt(a, value()));
    else if (a === '--out-shard-size') opts.outShardSize = parseSize(value());
    else if (a === '--random-seed') opts.randomSeed = positiveInt(a, value(), { allowZero: true });  // kept as text: u64
    else if (a === '-h' || a === '--help') throw new UsageError('');
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else positional.push(a);
  }
  if (positional.length !== 2) throw new UsageError('expected CONFIG and OUT_DIR');
  [opts.config, opts.outDir] = positional;
  return opts;
}

module.exports = { parseArgs, parseSize, UsageError, USAGE };
