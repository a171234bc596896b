// Keeps the form (models table, method, λ, normalize, seed, dtype) and the mergekit YAML
// in sync. The YAML is the source of truth and goes to the engine as the user wrote it:
// typing in it re-renders the form; a form edit changes the parsed config and rewrites
// the YAML from it (comments in the YAML do not survive a form edit).
(function (root, factory) {
  root.wasmergeConfigForm = factory(root.jsyaml, root.wasmergeJob, root.wasmergeFormat, root.wasmergeFileTable);
})(self, function (yaml, job, format, fileTable) {
  'use strict';
  const USES_DENSITY = new Set(['ties', 'dare_ties', 'dare_linear', 'breadcrumbs', 'breadcrumbs_ties', 'della', 'della_linear']);
  const NEEDS_BASE = new Set(['task_arithmetic', 'ties', 'dare_ties', 'dare_linear', 'breadcrumbs', 'breadcrumbs_ties', 'della', 'della_linear']);
  const DEFAULT_DENSITY = 0.5;
  const KEY_ORDER = ['merge_method', 'base_model', 'models', 'parameters', 'dtype', 'out_dtype', 'random_seed'];

  const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  // A parameter value as one line: 1, [0.2, 0.8, 1], [{filter: mlp, value: 0.3}].
  const inline = (v) => (v === undefined ? '' : typeof v === 'object' ? yaml.dump(v, { flowLevel: 0, lineWidth: -1 }).trim() : String(v));

  function dumpConfig(config) {
    if (!Object.keys(config).length) return '';
    // models[i].parameters (depth 3) on one line each, as mergekit's examples write them.
    return yaml.dump(config, { flowLevel: 3, lineWidth: -1, noRefs: true });
  }

  // The config with its keys in the order people write them (new keys land in place).
  function ordered(config) {
    const out = {};
    for (const k of KEY_ORDER) if (k in config) out[k] = config[k];
    for (const k of Object.keys(config)) if (!(k in out)) out[k] = config[k];
    return out;
  }

  // A starting config for the picked models: the one called base (or the first) is the
  // base, every other model is merged with weight 1.
  function autoConfig(method, models) {
    if (!models.length) return {};
    const base = models.find((m) => /(^|[/_.-])base([/_.-]|$)/i.test(m.name)) || models[0];
    const config = { merge_method: method };
    if (NEEDS_BASE.has(method)) config.base_model = base.name;
    config.models = models.filter((m) => m !== base || !NEEDS_BASE.has(method)).map((m) => ({
      model: m.name,
      parameters: USES_DENSITY.has(method) ? { weight: 1.0, density: DEFAULT_DENSITY } : { weight: 1.0 },
    }));
    return config;
  }

  // el: {method, lambda, normalize, seed, dtype, table, textarea, syncState, error}
  // getTable(): the file table (file_table.js); onChange({text, config, error}) after any change.
  function createConfigForm({ el, getTable, onChange }) {
    let config = {};
    let error = null;
    let generated = null;  // the last text the page wrote itself: picks may replace it
    let disabled = false;  // while a merge runs

    function notify() {
      onChange({ text: el.textarea.value, config, error });
    }

    function parse(text) {
      if (!text.trim()) return {};
      const parsed = job.parseConfigText(text);
      if (!isMap(parsed)) throw new job.ConfigError('the config must be a YAML mapping (merge_method: …, models: …)');
      return parsed;
    }

    function fromText() {
      try {
        config = parse(el.textarea.value);
        error = null;
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
    const params = (c) => (isMap(c.parameters) ? c.parameters : (c.parameters = {}));
    const dropEmptyParams = (c) => { if (isMap(c.parameters) && !Object.keys(c.parameters).length) delete c.parameters; };
    const samePath = (a, b) => {
      const t = getTable();
      const ma = t.model(String(a));
      return ma ? ma === t.model(String(b)) : fileTable.normalizePath(String(a)) === fileTable.normalizePath(String(b));
    };
    const dtypeKey = () => ('out_dtype' in config ? 'out_dtype' : 'dtype');

    // Parses a field as a YAML value; marks it invalid (and returns undefined) when it is not.
    function fieldValue(input, check = () => true) {
      const text = input.value.trim();
      if (text === '') {
        input.removeAttribute('aria-invalid');
        return null;
      }
      let v;
      try {
        v = yaml.load(text);
      } catch {
        v = undefined;
      }
      const ok = v !== undefined && v !== null && check(v);
      input.setAttribute('aria-invalid', String(!ok));
      return ok ? v : undefined;
    }

    const isNumberish = (v) => typeof v === 'number' || Array.isArray(v);

    function setParam(target, key, v) {
      if (v === undefined) return;
      if (v === null) delete params(target)[key];
      else params(target)[key] = v;
      dropEmptyParams(target);
    }

    // ---- rendering ----
    function rows() {
      const table = getTable();
      const out = [];
      const seen = new Set();
      const add = (name, role, index) => {
        const model = table.model(String(name));
        if (model) seen.add(model);
        out.push({ name: String(name), role, index, model });
      };
      if (config.base_model !== undefined && config.base_model !== null) add(config.base_model, 'base', -1);
      models().forEach((m, k) => {
        if (isMap(m) && m.model !== undefined && !samePath(m.model, config.base_model ?? '\0')) add(m.model, 'merge', k);
      });
      for (const m of table.models) if (!seen.has(m)) out.push({ name: m.name, role: 'skip', index: -1, model: m });
      return out;
    }

    function render() {
      const method = String(config.merge_method ?? '');
      if (method && ![...el.method.options].some((o) => o.value === method)) el.method.add(new Option(method, method));
      el.method.value = method || el.method.value;
      const p = isMap(config.parameters) ? config.parameters : {};
      setIfIdle(el.lambda, inline(p.lambda));
      el.normalize.value = p.normalize === true ? 'true' : p.normalize === false ? 'false' : '';
      setIfIdle(el.seed, config.random_seed === undefined ? '' : String(config.random_seed));
      const dtype = config[dtypeKey()];
      el.dtype.value = [...el.dtype.options].some((o) => o.value === dtype) ? dtype : '';
      renderTable(method);
      el.syncState.textContent = error ? 'YAML has an error: the form shows the last valid config' : 'in sync with the form';
      el.syncState.classList.toggle('bad', Boolean(error));
      el.error.hidden = !error;
      el.error.textContent = error || '';
      for (const input of [el.method, el.lambda, el.normalize, el.seed, el.dtype]) input.disabled = Boolean(error) || disabled;
    }

    // Don't rewrite the field the user is typing in (the caret would jump).
    function setIfIdle(input, value) {
      if (document.activeElement !== input) {
        input.value = value;
        input.removeAttribute('aria-invalid');
      }
    }

    function renderTable(method) {
      const body = el.table.tBodies[0];
      const all = rows();
      el.table.hidden = all.length === 0;
      el.table.classList.toggle('no-density', !USES_DENSITY.has(method));
      const focused = document.activeElement && document.activeElement.closest('tr') && document.activeElement.dataset.field;
      const focusKey = focused ? document.activeElement.closest('tr').dataset.name + '\0' + focused : null;
      body.replaceChildren(...all.map((row) => renderRow(row)));
      if (focusKey) {
        const [name, field] = focusKey.split('\0');
        const again = [...body.rows].find((r) => r.dataset.name === name);
        const input = again && again.querySelector(`[data-field="${field}"]`);
        if (input) input.focus();
      }
    }

    function renderRow(row) {
      const tr = document.createElement('tr');
      tr.dataset.name = row.name;
      if (!row.model) tr.className = 'model-missing';
      const nameCell = tr.insertCell();
      const name = document.createElement('div');
      name.className = 'model-name';
      name.textContent = row.name;
      const meta = document.createElement('div');
      meta.className = 'model-meta';
      meta.textContent = row.model
        ? `${row.model.kind}${row.model.parts.length > 1 ? ` · ${row.model.parts.length} shards` : ''} · ${format.formatBytes(row.model.bytes)}`
        : 'not among the picked files';
      nameCell.append(name, meta);

      const role = document.createElement('select');
      role.dataset.field = 'role';
      role.setAttribute('aria-label', `Role of ${row.name}`);
      for (const [value, label] of [['base', 'Base'], ['merge', 'Merge'], ['skip', 'Not used']]) role.add(new Option(label, value));
      role.value = row.role;
      role.addEventListener('change', () => setRole(row, role.value));
      tr.insertCell().append(role);

      const entry = row.index >= 0 ? models()[row.index] : null;
      const entryParams = entry && isMap(entry.parameters) ? entry.parameters : {};
      const globals = isMap(config.parameters) ? config.parameters : {};
      if (row.role !== 'merge') {  // the base takes part in no weighting; skipped models in nothing
        const cell = tr.insertCell();
        cell.colSpan = 2;
        cell.className = 'not-weighted';
        cell.textContent = row.role === 'base' ? 'reference (no weight)' : '';
      }
      for (const key of row.role === 'merge' ? ['weight', 'density'] : []) {
        const cell = tr.insertCell();
        if (key === 'density') cell.className = 'density-col';
        const input = document.createElement('input');
        input.dataset.field = key;
        input.setAttribute('aria-label', `${key} of ${row.name}`);
        input.autocomplete = 'off';
        input.value = inline(entryParams[key]);
        input.placeholder = globals[key] !== undefined ? inline(globals[key]) : key === 'density' ? '1' : '';
        input.disabled = Boolean(error) || disabled;
        input.addEventListener('input', () => {
          const v = fieldValue(input, isNumberish);
          if (v !== undefined) edit((c) => setParam(c.models[row.index], key, v));
        });
        cell.append(input);
      }
      role.disabled = Boolean(error) || disabled;
      return tr;
    }

    function setRole(row, role) {
      edit((c) => {
        const list = Array.isArray(c.models) ? c.models : [];
        const indexOf = () => list.findIndex((m) => isMap(m) && samePath(m.model, row.name));
        if (row.role === 'base') delete c.base_model;
        if (role === 'base') {
          c.base_model = row.name;
          if (indexOf() >= 0) list.splice(indexOf(), 1);
        } else if (role === 'merge' && indexOf() < 0) {
          const method = String(c.merge_method || el.method.value);
          list.push({ model: row.name, parameters: USES_DENSITY.has(method) ? { weight: 1.0, density: DEFAULT_DENSITY } : { weight: 1.0 } });
        } else if (role === 'skip' && indexOf() >= 0) list.splice(indexOf(), 1);
        c.models = list;
      });
    }

    // ---- form fields ----
    el.textarea.addEventListener('input', () => {
      generated = null;
      fromText();
    });
    el.method.addEventListener('change', () => edit((c) => { c.merge_method = el.method.value; }));
    el.lambda.addEventListener('input', () => {
      const v = fieldValue(el.lambda, (x) => typeof x === 'number');
      if (v !== undefined) edit((c) => setParam(c, 'lambda', v));
    });
    el.normalize.addEventListener('change', () => edit((c) => setParam(c, 'normalize', el.normalize.value === '' ? null : el.normalize.value === 'true')));
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
      // The page's own text (the demo, a config for new picks): later picks may replace it.
      setGeneratedText(text) {
        writeText(text, { pageWritten: true });
      },
      // The picked files changed: a config the page wrote is redone for them; the user's
      // own YAML stays and the table shows which of its paths now resolve.
      filesChanged() {
        const text = el.textarea.value;
        if (!text.trim() || text === generated) {
          const method = String(config.merge_method || el.method.value);
          writeText(dumpConfig(ordered(autoConfig(method, getTable().models))), { pageWritten: true });
        } else fromText();
      },
      setDisabled(value) {
        disabled = value;
        el.textarea.readOnly = value;
        render();
      },
      current: () => ({ text: el.textarea.value, config, error }),
    };
  }

  return { createConfigForm, autoConfig, dumpConfig, USES_DENSITY };
});
