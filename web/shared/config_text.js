// A mergekit YAML text as the config object the job carries, with the error a user can
// act on. Shared by the node CLI and the page; apart from job.js because it needs js-yaml
// (node's package, or the page's vendored copy through index.html's import map), which
// the workers that import job.js have no way to name.
import yaml from 'js-yaml';
import { ConfigError } from './job.js';

export { ConfigError };

// source names the config in messages (a file name on the command line).
export function parseConfigText(text, source = 'config') {
  try {
    return yaml.load(text);
  } catch (e) {
    throw new ConfigError(`${source}: not valid YAML: ${e.reason || e.message} (line ${e.mark ? e.mark.line + 1 : '?'})`);
  }
}
