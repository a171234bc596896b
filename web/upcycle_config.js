// Upcycling to a mixture of experts (SPEC §7), the page's side of a mergekit-moe config:
// the gate modes in words, a starting config for the picked models, and what the engine
// would refuse, said before the run. Pure (no DOM): upcycle_form.js draws it, and node
// tests it. The engine stays the judge: this only says it sooner.
import { PROMPT_GATE_MODES, DEFAULT_GATE_MODE, gateMode, tokenizerFiles } from './shared/prompt_tokens.js';

const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

export const DEFAULT_EXPERTS_PER_TOKEN = 2;
export const DEFAULT_COPIES = 4;

// What each gate mode makes the routers from, and what that costs before the writing.
const FORWARD = 'a forward pass of the base model over the prompts';
export const GATE_MODES = [
  { name: 'hidden', does: "the base's hidden state at each layer's input, at each prompt's last token", cost: FORWARD },
  { name: 'hidden_avg', does: "the base's hidden states at each layer's input, averaged over each prompt's tokens", cost: FORWARD },
  { name: 'hidden_last', does: 'as hidden', cost: FORWARD },
  { name: 'cheap_embed', does: "the prompts' token embeddings summed, one router for every layer", cost: 'one embedding lookup' },
  { name: 'random', does: 'normal random numbers, N(0, 1)', cost: 'nothing' },
  { name: 'uniform_random', does: 'uniform random numbers in ±1/√hidden', cost: 'nothing' },
];

export const usesPromptsMode = (mode) => PROMPT_GATE_MODES.includes(mode);

// -> "Routers from …. Costs …." for the gate mode's hint line.
export function gateModeText(mode) {
  const m = GATE_MODES.find((g) => g.name === mode);
  if (!m) return '';
  return `Routers from ${m.does}. Costs ${m.cost}${usesPromptsMode(mode) ? ': each expert needs positive prompts' : ''}.`;
}

export const experts = (config) => (Array.isArray(config.experts) ? config.experts : []);
export const sharedExperts = (config) => (Array.isArray(config.shared_experts) ? config.shared_experts : []);

// Whether the experts are the base copied (the sparse upcycling paper's setup): every one
// is the base. samePath(a, b): whether two config paths name the same model.
export function expertsAreCopies(config, samePath) {
  const list = experts(config);
  return list.length > 0 && config.base_model !== undefined && list.every((e) => isMap(e) && samePath(e.source_model, config.base_model));
}

// models: the picked models ({name}), in the table's order. The one called base (or the
// first) is the base; the others are the experts; with one other, the base joins them (a
// mixture needs experts_per_token experts); with none, the base is copied. Random
// routers, so it runs as it is: a prompt gate mode needs prompts the user writes.
// keep: keys of the config being replaced that mean the same here (dtype, random_seed).
export function autoUpcycleConfig(models, keep = {}) {
  if (!models.length) return {};
  const base = models.find((m) => /(^|[/_.-])base([/_.-]|$)/i.test(m.name)) || models[0];
  const others = models.filter((m) => m !== base).map((m) => m.name);
  const sources = others.length >= DEFAULT_EXPERTS_PER_TOKEN ? others
    : others.length ? [base.name, ...others] : Array(DEFAULT_COPIES).fill(base.name);
  const config = { base_model: base.name, gate_mode: 'random', experts_per_token: DEFAULT_EXPERTS_PER_TOKEN };
  for (const k of ['dtype', 'random_seed']) if (keep[k] !== undefined) config[k] = keep[k];
  config.experts = sources.map((source_model) => ({ source_model }));
  return config;
}

// The prompts of a textarea: one a line, empty lines left out (spaces kept: "def " and
// "def" are different prompts).
export const promptLines = (text) => text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
export const promptText = (list) => (Array.isArray(list) ? list.map(String).join('\n') : '');

const hasPrompts = (e) => isMap(e) && Array.isArray(e.positive_prompts) && e.positive_prompts.length > 0;
const nameOf = (e, k) => `expert ${k + 1}${isMap(e) && e.source_model !== undefined ? ` (${e.source_model})` : ''}`;

// config: the parsed YAML; files: the file table (file_table.js: lookup, model).
// -> [{message}], in the order to show them.
export function checkUpcycle(config, files) {
  const out = [];
  const say = (message) => out.push({ message });
  if (config.base_model === undefined || config.base_model === null)
    say('Upcycling needs a base model (base_model): attention, embeddings and norms come from it.');
  const list = experts(config);
  if (!list.length) say('Give at least one expert (experts:).');
  const mode = gateMode(config);
  if (!GATE_MODES.some((g) => g.name === mode))
    say(`gate_mode '${mode}' is not one of ${GATE_MODES.map((g) => g.name).join(', ')}.`);
  const perToken = config.experts_per_token === undefined ? DEFAULT_EXPERTS_PER_TOKEN : config.experts_per_token;
  if (list.length && !(Number.isInteger(perToken) && perToken >= 1 && perToken <= list.length))
    say(`experts_per_token is ${perToken}, and there ${list.length === 1 ? 'is 1 expert' : `are ${list.length} experts`}: ` +
      `each token goes to experts_per_token of them, so it must be a whole number from 1 to ${list.length}.`);
  if (sharedExperts(config).length > 1)
    say(`Qwen2-MoE has exactly one shared expert; shared_experts gives ${sharedExperts(config).length}.`);
  if (usesPromptsMode(mode)) {
    list.forEach((e, k) => {
      if (!hasPrompts(e)) say(`${nameOf(e, k)} has no positive prompts, which gate_mode ${mode} needs (or pick random or uniform_random).`);
    });
    const paths = tokenizerFiles(config);
    if (paths && files.model(String(config.base_model)) && !files.lookup(paths.tokenizer))
      say(`The base model has no tokenizer.json among the picked files, so its prompts cannot be tokenized: pick the base as a folder with its tokenizer, or pick a random gate mode.`);
  }
  return out;
}

export { DEFAULT_GATE_MODE };
