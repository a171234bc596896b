// The method card's "Upcycle to a mixture of experts" fields (index.html's #upcycle-fields),
// drawn from an upcycling config and writing it back through the config form's edit(), as
// the merge fields do: the base, the experts (picked models, or the base copied E times),
// the gate mode with what it costs, experts_per_token, an optional shared expert
// (Qwen2-MoE), and each expert's prompts, one a line.
import * as U from './upcycle_config.js';
import { fieldValue } from './field_value.js';

const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const NONE = '';

// el: {base, gateMode, gateCost, perToken, shared, sourcePicked, sourceCopies, copies, experts};
// edit(mutate): the config form's (mutate(config) changes a copy, the YAML is rewritten).
function createUpcycleForm(el, edit) {
  let state = { config: {}, models: [], samePath: () => false, disabled: false };
  let shape = null;  // what the experts list was drawn for: drawn again only when it changes

  for (const g of U.GATE_MODES) el.gateMode.add(new Option(g.name, g.name));

  const copies = () => U.expertsAreCopies(state.config, state.samePath);
  // The picked models other than the base, as the experts "the picked models" means.
  const othersThanBase = (c) => state.models.map((m) => m.name).filter((n) => !state.samePath(n, c.base_model));

  // ---- edits ----
  el.base.addEventListener('change', () => edit((c) => {
    const wasCopies = copies();
    c.base_model = el.base.value;
    if (wasCopies) for (const e of U.experts(c)) if (isMap(e)) e.source_model = el.base.value;
  }));
  el.gateMode.addEventListener('change', () => edit((c) => { c.gate_mode = el.gateMode.value; }));
  el.perToken.addEventListener('input', () => {
    const v = fieldValue(el.perToken, (x) => Number.isInteger(x) && x >= 1);
    if (v === null) edit((c) => { delete c.experts_per_token; });
    else if (v !== undefined) edit((c) => { c.experts_per_token = v; });
  });
  el.shared.addEventListener('change', () => edit((c) => {
    if (el.shared.value === NONE) delete c.shared_experts;
    else c.shared_experts = [{ ...(isMap(U.sharedExperts(c)[0]) ? U.sharedExperts(c)[0] : {}), source_model: el.shared.value }];
  }));
  el.sourcePicked.addEventListener('change', () => edit((c) => {
    const names = othersThanBase(c);
    if (!names.length) return;  // nothing else picked: the copies stay
    const old = U.experts(c);
    c.experts = names.map((n) => old.find((e) => isMap(e) && state.samePath(e.source_model, n)) || { source_model: n });
  }));
  const resize = (n) => edit((c) => {
    const old = U.experts(c);
    c.experts = Array.from({ length: n }, (_, k) => ({ ...(isMap(old[k]) ? old[k] : {}), source_model: c.base_model }));
  });
  el.sourceCopies.addEventListener('change', () => resize(Number(el.copies.value) || U.DEFAULT_COPIES));
  el.copies.addEventListener('input', () => {
    const v = fieldValue(el.copies, (x) => Number.isInteger(x) && x >= 1 && x <= 1024);
    if (typeof v === 'number') {
      el.sourceCopies.checked = true;
      resize(v);
    }
  });

  // ---- the experts list: a row per expert (and per picked model not one, to tick) ----
  // -> [{key, label, index (in experts, or -1), shared, model (an unticked pick's name)}]
  function rows() {
    const { config, models } = state;
    const list = U.experts(config);
    const out = list.map((e, k) => ({ key: `e${k}`, index: k, label: `Expert ${k + 1}: ${isMap(e) ? e.source_model : '?'}` }));
    if (!copies()) {
      for (const m of models) {
        if (!list.some((e) => isMap(e) && state.samePath(e.source_model, m.name)))
          out.push({ key: `m:${m.name}`, index: -1, model: m.name, label: m.name });
      }
    }
    const shared = U.sharedExperts(config)[0];
    if (isMap(shared)) out.push({ key: 'shared', index: 0, shared: true, label: `Shared expert: ${shared.source_model}` });
    return out;
  }

  const entryOf = (c, row) => (row.shared ? U.sharedExperts(c)[0] : U.experts(c)[row.index]);

  function setPrompts(row, key, textarea) {
    const lines = U.promptLines(textarea.value);
    edit((c) => {
      const e = entryOf(c, row);
      if (!isMap(e)) return;
      if (lines.length) e[key] = lines;
      else delete e[key];
    });
  }

  function promptField(row, key, label) {
    const wrap = document.createElement('label');
    wrap.className = 'field';
    wrap.append(label);
    const area = document.createElement('textarea');
    area.rows = 2;
    area.spellcheck = false;
    area.dataset.field = key;
    area.placeholder = key === 'positive_prompts' ? 'one prompt a line' : 'optional';
    area.setAttribute('aria-label', `${label} of ${row.label}`);
    area.addEventListener('input', () => setPrompts(row, key, area));
    wrap.append(area);
    return wrap;
  }

  function rowElement(row) {
    const li = document.createElement('li');
    li.className = 'expert';
    li.dataset.key = row.key;
    const head = document.createElement('label');
    head.className = 'expert-head';
    if (!copies() && !row.shared) {
      const use = document.createElement('input');
      use.type = 'checkbox';
      use.checked = row.index >= 0;
      use.dataset.field = 'use';
      use.setAttribute('aria-label', `${row.label} is an expert`);
      use.addEventListener('change', () => edit((c) => {
        if (row.index >= 0) c.experts.splice(row.index, 1);
        else c.experts = [...U.experts(c), { source_model: row.model }];
      }));
      head.append(use);
    }
    head.append(document.createTextNode(row.label));
    li.append(head);
    if (row.index >= 0) {
      const prompts = document.createElement('div');
      prompts.className = 'expert-prompts';
      prompts.append(promptField(row, 'positive_prompts', 'Positive prompts'), promptField(row, 'negative_prompts', 'Negative prompts'));
      li.append(prompts);
    }
    return li;
  }

  function renderExperts() {
    const list = rows();
    const next = JSON.stringify([copies(), list]);
    if (next !== shape) {
      shape = next;
      const focused = document.activeElement && el.experts.contains(document.activeElement)
        ? [document.activeElement.closest('li').dataset.key, document.activeElement.dataset.field] : null;
      el.experts.replaceChildren(...list.map(rowElement));
      if (focused) {
        const again = el.experts.querySelector(`li[data-key="${CSS.escape(focused[0])}"] [data-field="${focused[1]}"]`);
        if (again) again.focus();
      }
    }
    for (const li of el.experts.children) {
      const row = list.find((r) => r.key === li.dataset.key);
      const entry = row && row.index >= 0 ? entryOf(state.config, row) : null;
      for (const control of li.querySelectorAll('input, textarea')) {
        control.disabled = state.disabled;
        // The one being typed in keeps its text (and its caret, and a line just begun).
        if (control.tagName === 'TEXTAREA' && document.activeElement !== control)
          control.value = U.promptText(isMap(entry) ? entry[control.dataset.field] : null);
      }
    }
  }

  // ---- drawing ----
  function fillModels(select, current, { none = null } = {}) {
    const names = state.models.map((m) => m.name);
    const options = none ? [new Option(none, NONE)] : [];
    for (const n of names) options.push(new Option(n, n));
    const known = current === undefined || current === null ? null : names.find((n) => state.samePath(n, current));
    if (current !== undefined && current !== null && !known) options.push(new Option(String(current), String(current)));
    select.replaceChildren(...options);
    select.value = current === undefined || current === null ? (none ? NONE : '') : known || String(current);
  }

  // config: the parsed upcycling config; models: the picked models ({name}); samePath(a, b);
  // disabled: a run is going, or the YAML does not parse.
  function render({ config, models, samePath, disabled }) {
    state = { config, models, samePath, disabled };
    fillModels(el.base, config.base_model);
    const shared = U.sharedExperts(config)[0];
    fillModels(el.shared, isMap(shared) ? shared.source_model : null, { none: 'None (Mixtral, or Qwen3-MoE from a Qwen3 base)' });
    const mode = config.gate_mode === undefined || config.gate_mode === null ? U.DEFAULT_GATE_MODE : String(config.gate_mode);
    if (![...el.gateMode.options].some((o) => o.value === mode)) el.gateMode.add(new Option(mode, mode));
    el.gateMode.value = mode;
    el.gateCost.textContent = U.gateModeText(mode);
    if (document.activeElement !== el.perToken) {
      el.perToken.value = config.experts_per_token === undefined ? '' : String(config.experts_per_token);
      el.perToken.removeAttribute('aria-invalid');
    }
    const copied = copies();
    el.sourceCopies.checked = copied;
    el.sourcePicked.checked = !copied;
    if (document.activeElement !== el.copies) {
      el.copies.value = copied ? String(U.experts(config).length) : '';
      el.copies.removeAttribute('aria-invalid');
    }
    el.copies.placeholder = String(U.DEFAULT_COPIES);
    for (const c of [el.base, el.gateMode, el.perToken, el.shared, el.sourcePicked, el.sourceCopies, el.copies]) c.disabled = disabled;
    el.experts.dataset.prompts = U.usesPromptsMode(mode) ? 'used' : 'unused';
    renderExperts();
  }

  return { render };
}

export { createUpcycleForm };
