'use strict';
// Runs one merge N times in a single wasm module (as a page's worker would) and prints,
// per run, its status, the output's sha256 and malloc's bytes in use afterwards.
//   node --no-experimental-fetch repeat_merges.js DIR N      (DIR holds merge.yaml)
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');
const { createNodeHost } = require('../../src/wasm/node_host');
const { heapBytes } = require('../../web/shared/heap_size.js');

const [dir, runs] = process.argv.slice(2);
process.chdir(dir);
const configText = fs.readFileSync('merge.yaml', 'utf8');
const config = yaml.load(configText);
const createWasmerge = require(path.resolve(__dirname, '../../build/wasm/wasmerge.js'));

createWasmerge({ INITIAL_MEMORY: heapBytes(256), poolSize: 1 }).then((module) => {
  const results = [];
  for (let i = 0; i < Number(runs); i++) {
    const outDir = `repeat-${i}`;
    module.wasmergeHost = createNodeHost({ outDir });
    const job = JSON.stringify({ config, config_text: configText, out_dir: outDir, threads: 2, memory_mb: 256 });
    const status = module.runJob(job, () => {});
    const sha256 = crypto.createHash('sha256').update(fs.readFileSync(path.join(outDir, 'model.safetensors'))).digest('hex');
    results.push({ status, sha256, heapInUse: module.heapInUse() });
  }
  process.stdout.write(JSON.stringify({ results }));
  process.exit(0);
});
