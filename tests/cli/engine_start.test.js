'use strict';
// The wasm engine under node started before its job (src/wasm/node_engine.js), as
// scripts/wasmerge starts it.
const fs = require('fs');
const path = require('path');
const { test, assert, scratchDir, wasmerge } = require('./harness');
const { baseValues, fineTune, writeModel } = require('../../scripts/lib/model_sets');
const { startWasmEngine } = require('../../src/wasm/node_engine');
const { buildJob } = require('../../web/shared/job.js');
const { parseConfigText } = require('../../web/shared/config_text.js');

// scripts/wasmerge starts the engine before it reads the config, with the heap and pool its
// command line asks for; a job that wants more threads than that pool has must get an
// engine of its own (a pool thread beyond the pool never starts while the engine runs).
test('an engine started for fewer threads than its job asks for runs the job in one of its own', async () => {
  const dir = scratchDir('engine-start');
  const base = baseValues(1, 'BF16');
  writeModel(dir, 'a', base, 'BF16', { folder: true });
  writeModel(dir, 'b', fineTune(base, 2, 'BF16'), 'BF16', { folder: true });
  const configText = `merge_method: linear\nmodels:\n  - model: ${dir}/a\n    parameters: {weight: 0.5}\n` +
    `  - model: ${dir}/b\n    parameters: {weight: 0.5}\n`;
  fs.writeFileSync(path.join(dir, 'linear.yaml'), configText);
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  const job = buildJob({ kind: 'merge', config: parseConfigText(configText, 'linear.yaml'), configText, outDir: out,
    threads: 3, memoryMb: 64, outShardSize: 5e9 });
  const engine = startWasmEngine({ buildDir: path.join(__dirname, '../../build/wasm'), memoryMb: 64, threads: 1 });
  const events = [];
  const status = await Promise.race([engine.run(job, (e) => events.push(e)),
    new Promise((resolve) => setTimeout(resolve, 30000, 'no answer in 30 s'))]);
  assert.strictEqual(status, 0, JSON.stringify(events.filter((e) => e.event === 'error')));
  assert.ok(events.some((e) => e.event === 'done'));
  const cli = wasmerge(['linear.yaml', 'cli-out', '--threads', '3', '--memory-mb', '64'], { cwd: dir });
  assert.strictEqual(cli.status, 0, cli.stderr);
  assert.ok(fs.readFileSync(path.join(out, 'model.safetensors')).equals(fs.readFileSync(path.join(dir, 'cli-out/model.safetensors'))));
});
