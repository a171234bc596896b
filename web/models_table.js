// The form's models table: which models it lists, in which role, from the config and the
// picks (tableRows), and its rows drawn with a cell per per-model parameter
// (renderModelsTable). A `slices:` config's models are listed with the layers they give;
// their roles live in the slices, so they are shown, not edited; so are an upcycling
// config's (base, expert, shared expert), which its own fields edit (upcycle_form.js).
import { formatBytes } from './shared/format.js';
import { rangeText } from './layer_map.js';
import { inline } from './config_yaml.js';
import { defaultText } from './methods.js';
import { isUpcycleConfig } from './shared/prompt_tokens.js';

const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// files: the file table (file_table.js). -> [{name, role: base | merge | slices | expert |
// shared | skip, index (in config.models, config.experts, or -1), ranges ([[a, b)] a slices
// config takes), experts (the expert numbers an upcycling config's model gives), model (the
// picked model, or undefined)}]: the base first, then the merged models in config order,
// then the picked models the config does not use.
function tableRows(config, files) {
  const samePath = (a, b) => files.sameModel(a, b);
  const out = [];
  const seen = new Set();
  const add = (name, role, index, ranges = [], experts = []) => {
    const model = files.model(String(name));
    if (model) seen.add(model);
    out.push({ name: String(name), role, index, ranges, model, experts });
  };
  const hasBase = config.base_model !== undefined && config.base_model !== null;
  if (isUpcycleConfig(config)) {
    // One row a model, with the experts it gives (the base may be every one of them).
    const numbers = new Map();
    (Array.isArray(config.experts) ? config.experts : []).forEach((e, k) => {
      if (!isMap(e) || e.source_model === undefined) return;
      const key = [...numbers.keys()].find((n) => samePath(n, e.source_model)) || String(e.source_model);
      numbers.set(key, [...(numbers.get(key) || []), k + 1]);
    });
    const baseKey = hasBase ? [...numbers.keys()].find((n) => samePath(n, config.base_model)) : undefined;
    if (hasBase) add(config.base_model, 'base', -1, [], numbers.get(baseKey) || []);
    for (const [name, list] of numbers) if (name !== baseKey) add(name, 'expert', list[0] - 1, [], list);
    for (const e of Array.isArray(config.shared_experts) ? config.shared_experts : [])
      if (isMap(e) && e.source_model !== undefined && !out.some((r) => samePath(r.name, e.source_model))) add(e.source_model, 'shared', -1);
  } else if (Array.isArray(config.slices)) {
    const ranges = new Map();  // model -> the layer ranges its slices take
    for (const slice of config.slices) {
      for (const source of (isMap(slice) && Array.isArray(slice.sources) ? slice.sources : [])) {
        if (!isMap(source) || source.model === undefined) continue;
        const key = [...ranges.keys()].find((k) => samePath(k, source.model)) || String(source.model);
        ranges.set(key, [...(ranges.get(key) || []), source.layer_range]);
      }
    }
    const baseKey = hasBase ? [...ranges.keys()].find((k) => samePath(k, config.base_model)) : undefined;
    if (hasBase) add(config.base_model, 'base', -1, ranges.get(baseKey) || []);
    for (const [name, list] of ranges) if (name !== baseKey) add(name, 'slices', -1, list);
  } else {
    if (hasBase) add(config.base_model, 'base', -1);
    (Array.isArray(config.models) ? config.models : []).forEach((m, k) => {
      if (isMap(m) && m.model !== undefined && !(hasBase && samePath(m.model, config.base_model))) add(m.model, 'merge', k);
    });
  }
  for (const m of files.models) if (!seen.has(m)) out.push({ name: m.name, role: 'skip', index: -1, ranges: [], model: m, experts: [] });
  return out;
}

// table: the <table>; rows: tableRows(); columns: [{name, default}] (the method's per-model
// numbers); config: the parsed config (each row's values, the global defaults); slices:
// whether the config uses slices; disabled: nothing editable; onRole(row, role);
// onParam(row, name, input) when a cell is typed in; invalid: [[model, parameter]] cells
// the page found at fault (method_check.js). A required column is marked (its header's
// data-required: style.css adds the mark, so the header's text stays the parameter's name).
function renderModelsTable(table, { rows, columns, config, slices, upcycle = false, disabled, onRole, onParam, invalid = [] }) {
  const cols = slices ? [{ name: 'layers' }] : upcycle ? [{ name: 'experts' }] : columns;
  table.hidden = rows.length === 0;
  const head = document.createElement('tr');
  for (const [text, col] of [['Model'], ['Role'], ...cols.map((c) => [c.name, c])]) {
    const th = document.createElement('th');
    th.textContent = text;
    if (col) th.className = `${col.name}-col`;
    if (col && col.required) {
      th.dataset.required = 'true';
      th.title = `${col.name} is required: every merged model needs one (here or under the global parameters)`;
    }
    head.append(th);
  }
  table.tHead.replaceChildren(head);

  // Redrawing must not take the caret from the cell being typed in.
  const active = document.activeElement;
  const focused = active && active.closest('tr') && active.dataset.field ? [active.closest('tr').dataset.name, active.dataset.field] : null;
  const body = table.tBodies[0];
  body.replaceChildren(...rows.map((row) => renderRow(row, { cols, config, slices, upcycle, disabled, onRole, onParam, invalid })));
  if (focused) {
    const again = [...body.rows].find((r) => r.dataset.name === focused[0]);
    const input = again && again.querySelector(`[data-field="${focused[1]}"]`);
    if (input) input.focus();
  }
}

function renderRow(row, { cols, config, slices, upcycle, disabled, onRole, onParam, invalid }) {
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
    ? `${row.model.kind}${row.model.parts.length > 1 ? ` · ${row.model.parts.length} shards` : ''} · ${formatBytes(row.model.bytes)}`
    : 'not among the picked files';
  nameCell.append(name, meta);

  const role = document.createElement('select');
  role.dataset.field = 'role';
  role.setAttribute('aria-label', `Role of ${row.name}`);
  const roles = slices ? [['base', 'Base'], ['slices', 'In slices'], ['skip', 'Not used']]
    : upcycle ? [['base', 'Base'], ['expert', 'Expert'], ['shared', 'Shared expert'], ['skip', 'Not used']]
      : [['base', 'Base'], ['merge', 'Merge'], ['skip', 'Not used']];
  for (const [value, label] of roles) role.add(new Option(label, value));
  role.value = row.role;
  role.addEventListener('change', () => onRole(row, role.value));
  role.disabled = disabled || slices || upcycle;
  tr.insertCell().append(role);

  if (upcycle) {  // what the model gives the mixture
    const cell = tr.insertCell();
    cell.className = 'not-weighted';
    const experts = row.experts.length ? `${row.experts.length === 1 ? 'expert' : 'experts'} ${row.experts.join(', ')}` : '';
    cell.textContent = row.role === 'base' ? ['everything but the MLPs', experts].filter(Boolean).join(' · ')
      : row.role === 'shared' ? 'the shared expert' : experts;
    return tr;
  }

  if (slices || row.role !== 'merge') {  // the base takes part in no weighting; skipped models in nothing
    const cell = tr.insertCell();
    cell.colSpan = Math.max(1, cols.length);
    cell.className = 'not-weighted';
    const layers = row.ranges.length ? `layers ${row.ranges.map(rangeText).join(', ')}` : '';
    cell.textContent = row.role === 'base' ? ['reference (no weight)', layers].filter(Boolean).join(' · ') : layers;
    return tr;
  }
  const entry = config.models[row.index];
  const own = isMap(entry.parameters) ? entry.parameters : {};
  const globals = isMap(config.parameters) ? config.parameters : {};
  for (const col of cols) {
    const cell = tr.insertCell();
    cell.className = `${col.name}-col`;
    const input = document.createElement('input');
    input.dataset.field = col.name;
    input.setAttribute('aria-label', `${col.name} of ${row.name}`);
    input.autocomplete = 'off';
    input.value = inline(own[col.name]);
    input.placeholder = globals[col.name] !== undefined ? inline(globals[col.name]) : defaultText(col) || (col.required ? 'required' : '');
    input.disabled = disabled;
    if (invalid.some(([model, param]) => model === row.name && param === col.name)) input.setAttribute('aria-invalid', 'true');
    input.addEventListener('input', () => onParam(row, col.name, input));
    cell.append(input);
  }
  return tr;
}

export { tableRows, renderModelsTable };
