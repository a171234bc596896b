// Turns a mergekit YAML text into the engine's job (include/wasmerge/job.hpp). One file
// for both front ends: the node CLI (src/cli/wasmerge.js) and the page (app.js), so a
// config means the same job wherever it is pasted.
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory(require('js-yaml'));
  else root.wasmergeJob = factory(root.jsyaml);
})(typeof self !== 'undefined' ? self : this, function (yaml) {
  'use strict';

  class ConfigError extends Error {}

  // source names the config in messages (a file name on the command line).
  function parseConfigText(text, source = 'config') {
    try {
      return yaml.load(text);
    } catch (e) {
      throw new ConfigError(`${source}: not valid YAML: ${e.reason || e.message} (line ${e.mark ? e.mark.line + 1 : '?'})`);
    }
  }

  // What a job gets when its host says nothing: the engine's own defaults (job.hpp), which
  // the CLI's flags and the page's fields start from.
  const DEFAULT_MEMORY_MB = 1024;
  const DEFAULT_OUT_SHARD_SIZE = 5e9;  // mergekit's 5 GB shards

  // kind: 'merge' (the default, left out of the JSON) | 'analyze' | 'plan' | 'describe'
  // (job.hpp). A describe job carries nothing else; a plan writes nothing, so it has no
  // out_dir. explain: {tensor, offset, count} or null. randomSeed: null, or the seed's
  // decimal digits as text (a u64 that a double would round).
  function buildJob({ kind = 'merge', config, configText, outDir, threads, memoryMb, outShardSize, randomSeed = null,
    explain = null }) {
    const job = kind === 'merge' ? {} : { kind };
    if (kind !== 'describe') {
      Object.assign(job, { config, config_text: configText });
      if (kind !== 'plan') job.out_dir = outDir;
      Object.assign(job, { threads, memory_mb: memoryMb, out_shard_size: outShardSize, random_seed: null });
      if (explain) job.explain = explain;
    }
    let json = JSON.stringify(job);
    // Splice the seed's digits into the JSON so no double rounds it.
    if (randomSeed !== null && randomSeed !== undefined) {
      if (!/^\d+$/.test(String(randomSeed))) throw new ConfigError(`random seed must be a non-negative integer, not '${randomSeed}'`);
      json = json.replace('"random_seed":null', `"random_seed":${randomSeed}`);
    }
    return { job, json };
  }

  return { parseConfigText, buildJob, ConfigError, DEFAULT_MEMORY_MB, DEFAULT_OUT_SHARD_SIZE };
});
