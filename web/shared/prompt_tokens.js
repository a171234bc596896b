// The token ids of an upcycling config's prompts (SPEC §7), for the job's `prompt_tokens`.
// The engine has no tokenizer: the host tokenizes every prompt with the base model's
// tokenizer.json (and tokenizer_config.json) and hands it the ids. One file for every
// host (the node CLI and the page, which read the two files each their own way), so a
// prompt means the same ids wherever the config runs.
//
// As mergekit does (mergekit/moe/router.py): the text tokenized is bos_token + prompt,
// with no special tokens added; each prompt alone, so no padding.
import { Tokenizer } from '@huggingface/tokenizers';

const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// The gate modes whose routers come from the prompts; random and uniform_random need none.
export const PROMPT_GATE_MODES = ['hidden', 'hidden_avg', 'hidden_last', 'cheap_embed'];
export const DEFAULT_GATE_MODE = 'hidden';

// A mergekit-moe config: `experts:` and no merge_method.
export function isUpcycleConfig(config) {
  return isMap(config) && 'experts' in config && (config.merge_method === undefined || config.merge_method === null);
}

export function gateMode(config) {
  return config.gate_mode === undefined || config.gate_mode === null ? DEFAULT_GATE_MODE : String(config.gate_mode);
}

export function usesPrompts(config) {
  return isUpcycleConfig(config) && PROMPT_GATE_MODES.includes(gateMode(config));
}

// Every prompt the config gives, positive and negative, of experts and shared experts, in
// config order, each text once. Entries that are not strings are left to the engine's
// own message.
export function promptsOf(config) {
  const out = new Set();
  const lists = [config.experts, config.shared_experts].filter(Array.isArray);
  for (const list of lists) {
    for (const expert of list.filter(isMap)) {
      for (const key of ['positive_prompts', 'negative_prompts']) {
        if (Array.isArray(expert[key])) for (const p of expert[key]) if (typeof p === 'string') out.add(p);
      }
    }
  }
  return [...out];
}

// The folder of the base model a config names: what precedes a LoRA's '+adapter' (SPEC §8).
export function baseFolder(config) {
  const base = config.base_model;
  if (typeof base !== 'string' || !base) return null;
  return base.split('+')[0].replace(/\/+$/, '') || '.';
}

// Which files a host reads for this config, as config paths ('base/tokenizer.json'), or
// null when the config needs no prompt tokens.
export function tokenizerFiles(config) {
  if (!usesPrompts(config)) return null;
  const folder = baseFolder(config);
  if (folder === null) return null;
  const join = (name) => (folder === '.' ? name : `${folder}/${name}`);
  return { tokenizer: join('tokenizer.json'), tokenizerConfig: join('tokenizer_config.json') };
}

// tokenizer_config.json's bos_token: a string, an AddedToken object ({content}), or
// absent / null (then nothing is prepended).
export function bosText(tokenizerConfig) {
  const bos = isMap(tokenizerConfig) ? tokenizerConfig.bos_token : null;
  if (typeof bos === 'string') return bos;
  if (isMap(bos) && typeof bos.content === 'string') return bos.content;
  return '';
}

// The last tokenizer built, for the page's plan preview that asks again on every edit:
// the same two texts give the same tokenizer.
let last = { key: null, tokenizer: null };

function tokenizerOf(tokenizerJsonText, tokenizerConfigText, tokenizerConfig) {
  if (last.key && last.key[0] === tokenizerJsonText && last.key[1] === tokenizerConfigText) return last.tokenizer;
  const tokenizer = new Tokenizer(JSON.parse(tokenizerJsonText), tokenizerConfig);
  last = { key: [tokenizerJsonText, tokenizerConfigText], tokenizer };
  return tokenizer;
}

// config: the parsed YAML; tokenizerJsonText: tokenizer.json's text, or null when the base
// has none; tokenizerConfigText: tokenizer_config.json's, or null.
// -> {"<prompt>": [ids...]} for the job's prompt_tokens, or null when the job carries
// none (no prompt gate mode, no prompts, or no tokenizer.json: the engine says what is
// missing). Throws an Error naming the file that does not parse.
export function promptTokens(config, tokenizerJsonText, tokenizerConfigText = null) {
  if (!usesPrompts(config) || tokenizerJsonText === null || tokenizerJsonText === undefined) return null;
  const prompts = promptsOf(config);
  if (!prompts.length) return null;
  let tokenizerConfig = {};
  if (tokenizerConfigText !== null && tokenizerConfigText !== undefined) {
    try {
      tokenizerConfig = JSON.parse(tokenizerConfigText);
    } catch (e) {
      throw new Error(`the base model's tokenizer_config.json is not valid JSON: ${e.message}`);
    }
    if (!isMap(tokenizerConfig)) tokenizerConfig = {};
  }
  let tokenizer;
  try {
    tokenizer = tokenizerOf(tokenizerJsonText, tokenizerConfigText, tokenizerConfig);
  } catch (e) {
    throw new Error(`the base model's tokenizer.json could not be read as a tokenizer: ${e.message}`);
  }
  const bos = bosText(tokenizerConfig);
  // Object.fromEntries defines each key as its own property, '__proto__' included.
  return Object.fromEntries(prompts.map((p) => [p, tokenizer.encode(bos + p, { add_special_tokens: false }).ids]));
}
