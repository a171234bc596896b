'use strict';
// The CLI's side of upcycling's prompt tokens: reads the base model's tokenizer files
// (paths relative to the current folder, as every model path of a config) for the shared
// tokenization in web/shared/prompt_tokens.js.
const fs = require('fs');
const { tokenizerFiles, promptTokens } = require('../../web/shared/prompt_tokens.js');

const readIfThere = (file) => (fs.existsSync(file) && fs.statSync(file).isFile() ? fs.readFileSync(file, 'utf8') : null);

// -> the job's prompt_tokens, or null (no prompt gate mode; no tokenizer.json, which the
// engine then reports). Throws an Error when a tokenizer file does not parse.
function readPromptTokens(config) {
  const files = tokenizerFiles(config);
  if (!files) return null;
  return promptTokens(config, readIfThere(files.tokenizer), readIfThere(files.tokenizerConfig));
}

module.exports = { readPromptTokens };
