// The page's side of upcycling's prompt tokens: reads the base model's tokenizer files
// among the picked ones (by the same config paths the engine's host resolves) for the
// shared tokenization in shared/prompt_tokens.js. On the page's own thread: the library
// is a bare name that only index.html's import map resolves, which workers lack.
import { tokenizerFiles, promptTokens } from './shared/prompt_tokens.js';
import { normalizePath } from './file_table.js';

// A file's text, read once per File: the plan preview asks again on every edit.
const texts = new WeakMap();
function textOf(file) {
  if (!texts.has(file)) texts.set(file, file.text());
  return texts.get(file);
}

// config: the parsed YAML; files: [[path, File]] of the picks (file_table.js entries()).
// -> the job's prompt_tokens, or null (no prompt gate mode, or no tokenizer.json among the
// picks: the engine says what is missing). Rejects when a tokenizer file does not parse.
async function readPromptTokens(config, files) {
  const paths = tokenizerFiles(config);
  if (!paths) return null;
  const byPath = new Map(files.map(([p, f]) => [normalizePath(p), f]));
  const read = (p) => {
    const file = byPath.get(normalizePath(p));
    return file ? textOf(file) : null;
  };
  const [tokenizer, tokenizerConfig] = await Promise.all([read(paths.tokenizer), read(paths.tokenizerConfig)]);
  return promptTokens(config, tokenizer, tokenizerConfig);
}

export { readPromptTokens };
