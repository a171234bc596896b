// The page's eval job (SPEC §9): each chosen model's token ids of the text, from its own
// tokenizer files through the tokenization the CLI uses too (shared/eval_tokens.js), and
// the job the engine runs (shared/job.js), as `scripts/wasmerge eval` builds it. On the
// page's thread: the tokenizers library is a bare name that only index.html's import map
// resolves.
import { evalTokens, textBytes, parseContext } from './shared/eval_tokens.js';
import { buildEvalJob } from './shared/job.js';
import { normalizePath } from './file_table.js';

// candidates: [{folder}] (eval_models.js); files: [[path, Blob]] the engine will read;
// text: the text as the user gave it; contextText: the context field's text ('' for the
// engine's default). -> the job's JSON text. Throws an Error whose message is the one line
// to show.
async function evalJobText({ candidates, files, text, contextText, threads, memoryMb }) {
  if (!text.length) throw new Error('The text is empty: paste a text, or pick a .txt file, to evaluate the models on.');
  if (!candidates.length) throw new Error('Tick at least one model to evaluate.');
  let context;
  try {
    context = parseContext(contextText);
  } catch (e) {
    throw new Error(`The ${e.message}.`);
  }
  const byPath = new Map(files.map(([p, f]) => [normalizePath(p), f]));
  const read = (c, name) => {
    const file = byPath.get(normalizePath(`${c.folder}/${name}`));
    return file ? file.text() : null;
  };
  const bytes = textBytes(text);
  const models = [];
  for (const c of candidates) {
    const [tokenizer, tokenizerConfig] = await Promise.all([read(c, 'tokenizer.json'), read(c, 'tokenizer_config.json')]);
    let tokens;
    try {
      tokens = evalTokens(text, tokenizer, tokenizerConfig, c.folder);
    } catch (e) {
      throw new Error(`Could not evaluate: ${e.message}`);
    }
    models.push({ path: c.folder, tokens, textBytes: bytes });
  }
  return buildEvalJob({ models, context, threads, memoryMb }).json;
}

export { evalJobText };
