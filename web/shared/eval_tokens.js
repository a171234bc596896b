// The token ids of the text an evaluation scores (SPEC §9), for the eval job's models.
// The engine has no tokenizer: the host tokenizes the text with each model's tokenizer.json
// (and tokenizer_config.json) as the tokenizers library does with special tokens added (the
// post-processor's BOS and the like). One file for every host (the node CLI and the page),
// so a text means the same ids, and the same numbers, wherever it is evaluated.
import { Tokenizer } from '@huggingface/tokenizers';

const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// The text's UTF-8 bytes: bits per byte divides by them.
export function textBytes(text) {
  return new TextEncoder().encode(text).length;
}

// The window length a user typed ('' or null: the model's default) -> a number or null;
// throws an Error for anything but an integer of at least 2.
export function parseContext(text) {
  if (text === null || text === undefined || String(text).trim() === '') return null;
  const s = String(text).trim();
  if (!/^\d+$/.test(s) || Number(s) < 2) throw new Error(`context must be an integer of at least 2 tokens, not '${s}'`);
  return Number(s);
}

// text: the text to score; tokenizerJsonText: the model's tokenizer.json, or null when it
// has none; tokenizerConfigText: its tokenizer_config.json, or null; model: the model's
// name for messages. -> [ids...]. Throws an Error naming what is wrong (an empty text, a
// missing or unreadable tokenizer file).
export function evalTokens(text, tokenizerJsonText, tokenizerConfigText, model) {
  if (typeof text !== 'string' || text.length === 0) throw new Error('the text to evaluate is empty');
  if (tokenizerJsonText === null || tokenizerJsonText === undefined)
    throw new Error(`${model}/tokenizer.json: not found: eval tokenizes the text with the model's own tokenizer`);
  let tokenizerConfig = {};
  if (tokenizerConfigText !== null && tokenizerConfigText !== undefined) {
    try {
      tokenizerConfig = JSON.parse(tokenizerConfigText);
    } catch (e) {
      throw new Error(`${model}/tokenizer_config.json: not valid JSON: ${e.message}`);
    }
    if (!isMap(tokenizerConfig)) tokenizerConfig = {};
  }
  let tokenizer;
  try {
    tokenizer = new Tokenizer(JSON.parse(tokenizerJsonText), tokenizerConfig);
  } catch (e) {
    throw new Error(`${model}/tokenizer.json: could not be read as a tokenizer: ${e.message}`);
  }
  const ids = tokenizer.encode(text, { add_special_tokens: true }).ids;
  if (!ids.length) throw new Error(`${model}: the text has no tokens`);
  return Array.from(ids, Number);
}
