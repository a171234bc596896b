// Keeps the form (models table, method, its global parameters, seed, dtype) and the mergekit YAML
// in sync. The YAML is the source of truth and goes to the engine as the user wrote it:
// typing in it re-renders the form; a form edit changes the parsed config and rewrites
// the YAML from it (comments in the YAML do not survive a form edit).
//
// What a method takes (its per-model columns, its global parameter fields, whether it
// needs a base, the defaults) comes from the engine's catalogue (setCatalogue; methods.js),
// and so does what the page says about it (method_about.js) and what it finds wrong
// before a merge (method_check.js). A config with `slices:` is kept whole: the table shows
// which layers each model gives, and only the fields that mean the same with slices
// (method, global parameters, seed, dtype) stay editable.
//
// The page makes one of two things, said by the config itself: a merge (merge_method:),
// or a mixture of experts upcycled from models (experts: and no merge_method, a
// mergekit-moe config; SPEC §7). In the second mode the method's fields give way to the
// upcycling fields (upcycle_form.js) and the table shows each model's part, not edited.
// A third mode, extracting a LoRA adapter (extract_form.js), has no config at all: its
// fields are the whole job, and the YAML is left as it was, for coming back to a merge.
import { ordered, dumpConfig } from './config_yaml.js';
import { parseConfigText, ConfigError } from './shared/config_text.js';
import * as Methods from './methods.js';
import { tableRows, renderModelsTable } from './models_table.js';
import { fieldValue, isNumberish } from './field_value.js';
import { createParamFields } from './param_fields.js';
import { renderAbout, renderMethodList } from './method_about.js';
import { checkConfig } from './method_check.js';
import { isUpcycleConfig } from './shared/prompt_tokens.js';
import { autoUpcycleConfig, checkUpcycle } from './upcycle_config.js';
import { createUpcycleForm } from './upcycle_form.js';
import { createExtractForm } from './extract_form.js';

const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// A model entry joining a merge by this method (method: a catalogue entry, or null when
// the engine could not say what it takes).
function modelEntry(name, method) {
  const parameters = method ? Methods.startingParameters(method) : {};
  return Object.keys(parameters).length ? { model: name, parameters } : { model: name };
}

// A starting config for the picked models: the one called base (or the first) is the
// base when the method takes one (needs it, or uses it when given); the others are
// merged, as many as the method takes.
function autoConfig(methodName, method, models) {
  if (!models.length || !methodName) return {};
  const base = models.find((m) => /(^|[/_.-])base([/_.-]|$)/i.test(m.name)) || models[0];
  const needsBase = method ? Methods.takesBase(method) : true;
  const config = { merge_method: methodName };
  if (needsBase) config.base_model = base.name;
  const max = method && method.models.max !== null ? method.models.max : Infinity;
  config.models = models.filter((m) => m !== base || !needsBase).slice(0, max).map((m) => modelEntry(m.name, method));
  return config;
}

// el: {method, methodAbout, methodList, methodCount, params, methodCheck, seed, dtype, table, slicesNote, textarea,
// syncState, error, modeMerge, modeUpcycle (the two radios), mergeOnly ([elements shown only for a merge]),
// upcycleFields, upcycle (upcycle_form.js's el), modeExtract, extractFields, extract (extract_form.js's el)}
// getTable(): the file table (file_table.js); onChange({text, config, error}) after any change.
function createConfigForm({ el, getTable, onChange }) {
  let config = {};
  let error = null;
  let generated = null;  // the last text the page wrote itself: picks may replace it
  let guessed = false;   // that text was written before the catalogue came
  let disabled = false;  // while a merge runs
  let methods = null;    // the engine's catalogue, once it has answered
  let problems = [];     // what the engine would refuse in the config (method_check.js, upcycle_config.js)
  let mode = 'merge';    // 'merge' | 'upcycle': what the config is, or was before it was emptied; 'extract': no config
  const paramFields = createParamFields(el.params, (name, v) => edit((c) => setParam(c, name, v)));
  const upcycleForm = createUpcycleForm(el.upcycle, (mutate) => edit(mutate));
  const extractForm = createExtractForm(el.extract);

  function notify() {
    onChange({ text: el.textarea.value, config, error, mode });
  }

  function parse(text) {
    if (!text.trim()) return {};
    const parsed = parseConfigText(text);
    if (!isMap(parsed)) throw new ConfigError('the config must be a YAML mapping (merge_method: …, models: …)');
    return parsed;
  }

  // typed: the user wrote in the YAML, which leaves the extract mode (a config the page
  // writes for new picks does not).
  function fromText({ typed = false } = {}) {
    try {
      config = parse(el.textarea.value);
      error = null;
      if (mode === 'extract' && !typed) { /* stays */ } else if (isUpcycleConfig(config)) mode = 'upcycle';
      else if (Object.keys(config).length) mode = 'merge';
    } catch (e) {
      error = e.message;
    }
    render();
    notify();
  }

  function writeText(text, { pageWritten = false } = {}) {
    el.textarea.value = text;
    if (pageWritten) generated = text;
    fromText();
  }

  // A form edit: change the config, rewrite the YAML from it.
  function edit(mutate) {
    if (error) return;  // the form shows a stale config until the YAML parses again
    const next = structuredClone(config);
    mutate(next);
    config = ordered(next);
    el.textarea.value = dumpConfig(config);
    generated = null;
    render();
    notify();
  }

  const models = () => (Array.isArray(config.models) ? config.models : []);
  const usesSlices = () => Array.isArray(config.slices);
  const methodName = () => String(config.merge_method || el.method.value || '');
  const method = () => Methods.find(methods, methodName());
  const params = (c) => (isMap(c.parameters) ? c.parameters : (c.parameters = {}));
  const dropEmptyParams = (c) => { if (isMap(c.parameters) && !Object.keys(c.parameters).length) delete c.parameters; };
  const samePath = (a, b) => getTable().sameModel(a, b);
  const dtypeKey = () => ('out_dtype' in config ? 'out_dtype' : 'dtype');

  // The models table's parameter columns: the method's per-model numbers; without a
  // catalogue, the ones the config already sets.
  function columns() {
    const m = method();
    if (m) return Methods.modelParams(m);
    const names = new Set();
    for (const e of models()) if (isMap(e) && isMap(e.parameters)) for (const k of Object.keys(e.parameters)) names.add(k);
    return [...names].map((name) => ({ name, default: null }));
  }

  function setParam(target, key, v) {
    if (v === undefined) return;
    if (v === null) delete params(target)[key];
    else params(target)[key] = v;
    dropEmptyParams(target);
  }

  // ---- rendering ----
  function fillMethods() {
    const name = methodName();
    const known = (methods || []).map((m) => new Option(m.title, m.name));
    for (const [i, m] of (methods || []).entries()) known[i].title = m.summary;
    // A method the engine does not know stays shown as the YAML says it (the engine will say why).
    if (name && !known.some((o) => o.value === name)) known.push(new Option(name, name));
    el.method.replaceChildren(...known);
    el.method.value = name || (known[0] ? known[0].value : '');
  }

  // What the method is and takes, and what the engine would refuse in this config.
  function renderMethod(m) {
    const off = Boolean(error) || disabled;
    renderAbout(el.methodAbout, m, { catalogueLoaded: Boolean(methods) });
    renderMethodList(el.methodList, methods || [], { current: m && m.name, disabled: off, onPick: setMethod });
    el.methodCount.textContent = methods ? String(methods.length) : '';
    problems = error ? [] : checkConfig(m, config);
    showProblems();
    paramFields.render({ method: m, values: isMap(config.parameters) ? config.parameters : {}, disabled: off,
      invalid: new Set(problems.filter((p) => p.param && p.model === null).map((p) => p.param)) });
  }

  const showProblems = () => {
    el.methodCheck.replaceChildren(...problems.map((p) => Object.assign(document.createElement('li'), { textContent: p.message })));
    el.methodCheck.hidden = problems.length === 0;
  };

  // The upcycling fields in the method card's place, and what the engine would refuse.
  function renderUpcycle() {
    const off = Boolean(error) || disabled;
    upcycleForm.render({ config, models: getTable().models, samePath, disabled: off });
    problems = error ? [] : checkUpcycle(config, getTable());
    showProblems();
    el.params.hidden = true;
  }

  function render() {
    const upcycling = mode === 'upcycle';
    const extracting = mode === 'extract';
    el.modeMerge.checked = mode === 'merge';
    el.modeUpcycle.checked = upcycling;
    el.modeExtract.checked = extracting;
    for (const radio of [el.modeMerge, el.modeUpcycle, el.modeExtract]) radio.disabled = disabled;
    el.upcycleFields.hidden = !upcycling;
    el.extractFields.hidden = !extracting;
    for (const node of el.mergeOnly) node.hidden = upcycling || extracting;
    for (const node of el.configOnly) node.hidden = extracting;
    fillMethods();
    const m = method();
    if (extracting) {
      extractForm.render({ models: getTable().models, disabled });
      problems = [];
      showProblems();
      el.params.hidden = true;
    } else if (upcycling) renderUpcycle();
    else renderMethod(m);
    setIfIdle(el.seed, config.random_seed === undefined ? '' : String(config.random_seed));
    const dtype = config[dtypeKey()];
    el.dtype.value = [...el.dtype.options].some((o) => o.value === dtype) ? dtype : '';
    renderModelsTable(el.table, {
      rows: tableRows(config, getTable()), columns: upcycling || extracting ? [] : columns(), config, slices: usesSlices(), upcycle: upcycling,
      // Extracting: the roles are the extract fields' base and fine-tune, not the config's.
      disabled: Boolean(error) || disabled || extracting, onRole: setRole, onParam: setModelParam,
      invalid: problems.filter((p) => p.model).map((p) => [p.model, p.param]),
    });
    el.slicesNote.hidden = !usesSlices();
    el.syncState.textContent = error ? 'YAML has an error: the form shows the last valid config' : 'in sync with the form';
    el.syncState.classList.toggle('bad', Boolean(error));
    el.error.hidden = !error;
    el.error.textContent = error || '';
    for (const input of [el.method, el.seed, el.dtype]) input.disabled = Boolean(error) || disabled;
  }

  // Don't rewrite the field the user is typing in (the caret would jump).
  function setIfIdle(input, value) {
    if (document.activeElement !== input) {
      input.value = value;
      input.removeAttribute('aria-invalid');
    }
  }

  // A cell of the table typed in: the model's parameter, when it reads as a number or a list.
  function setModelParam(row, name, input) {
    const v = fieldValue(input, isNumberish);
    if (v !== undefined) edit((c) => setParam(c.models[row.index], name, v));
  }

  function setRole(row, role) {
    edit((c) => {
      const list = Array.isArray(c.models) ? c.models : [];
      const indexOf = () => list.findIndex((m) => isMap(m) && samePath(m.model, row.name));
      if (row.role === 'base') delete c.base_model;
      if (role === 'base') {
        c.base_model = row.name;
        if (indexOf() >= 0) list.splice(indexOf(), 1);
      } else if (role === 'merge' && indexOf() < 0) list.push(modelEntry(row.name, method()));
      else if (role === 'skip' && indexOf() >= 0) list.splice(indexOf(), 1);
      c.models = list;
    });
  }

  // A new method keeps the parameters it takes and drops the others (they would be
  // errors); models it needs a value for get one.
  function setMethod(name) {
    const m = Methods.find(methods, name);
    edit((c) => {
      c.merge_method = name;
      if (!m) return;
      if (isMap(c.parameters)) c.parameters = Methods.keepParameters(m, c.parameters);
      dropEmptyParams(c);
      for (const entry of Array.isArray(c.models) ? c.models : []) {
        if (!isMap(entry)) continue;
        entry.parameters = { ...Methods.startingParameters(m), ...Methods.keepParameters(m, entry.parameters, { perModel: true }) };
        dropEmptyParams(entry);
      }
    });
  }

  // keep: the keys of the config being replaced that mean the same in the new one.
  function generate(keep = {}) {
    const models = getTable().models;
    if (mode === 'upcycle') {
      writeText(dumpConfig(autoUpcycleConfig(models, keep)), { pageWritten: true });
      guessed = false;
      return;
    }
    const name = methodName();
    const m = method();
    const next = autoConfig(name, m, models);
    if (Object.keys(next).length) for (const k of ['random_seed']) if (keep[k] !== undefined) next[k] = keep[k];
    if (Object.keys(next).length && keep.dtype !== undefined) next.dtype = keep.dtype;
    writeText(dumpConfig(next), { pageWritten: true });
    guessed = !m && Boolean(name);
  }

  // The mode switch: a config of the other kind for the same picks, with the same dtype and seed.
  function setMode(next) {
    if (next === mode) return;
    if (next === 'extract') {  // no config: the YAML stays for coming back
      mode = next;
      render();
      notify();
      return;
    }
    if (mode === 'extract' && !error && isUpcycleConfig(config) === (next === 'upcycle') && Object.keys(config).length) {
      mode = next;  // back to what the YAML already is
      render();
      notify();
      return;
    }
    const keep = error ? {} : { dtype: config[dtypeKey()], random_seed: config.random_seed };
    mode = next;
    generate(keep);
  }

  // ---- form fields ----
  el.textarea.addEventListener('input', () => {
    generated = null;
    fromText({ typed: true });
  });
  el.method.addEventListener('change', () => setMethod(el.method.value));
  el.modeMerge.addEventListener('change', () => { if (el.modeMerge.checked) setMode('merge'); });
  el.modeUpcycle.addEventListener('change', () => { if (el.modeUpcycle.checked) setMode('upcycle'); });
  el.modeExtract.addEventListener('change', () => { if (el.modeExtract.checked) setMode('extract'); });
  el.seed.addEventListener('input', () => {
    const v = fieldValue(el.seed, (x) => Number.isSafeInteger(x) && x >= 0);
    if (v === null) edit((c) => { delete c.random_seed; });
    else if (v !== undefined) edit((c) => { c.random_seed = v; });
  });
  el.dtype.addEventListener('change', () => edit((c) => {
    const key = dtypeKey();
    if (el.dtype.value) c[key] = el.dtype.value;
    else delete c[key];
  }));

  return {
    // The engine's method catalogue has come: the form shows what each method takes. A
    // config the page wrote without it is written again.
    setCatalogue(list) {
      methods = list;
      if (guessed && el.textarea.value === generated) generate();
      else render();
    },
    // The page's own text (the demo, a config for new picks): later picks may replace it.
    setGeneratedText(text) {
      guessed = false;
      writeText(text, { pageWritten: true });
    },
    // The picked files changed: a config the page wrote is redone for them; the user's
    // own YAML stays and the table shows which of its paths now resolve.
    filesChanged() {
      const text = el.textarea.value;
      if (!text.trim() || text === generated) generate();
      else fromText();
    },
    setDisabled(value) {
      disabled = value;
      el.textarea.readOnly = value;
      render();
    },
    // problems: what the page found the engine would refuse (method_check.js), in words.
    current: () => ({ text: el.textarea.value, config, error, mode, problems: problems.map((p) => p.message) }),
    // The extract mode's job (extract_form.js), or throws an Error saying what is wrong.
    extractJob: (settings) => extractForm.job(settings),
  };
}

export { createConfigForm };
