// The playground's controls for the parameters of a method that have no control of their
// own (merge_config.js's controlled(): not weight, density, λ, rescaling): made from the
// catalogue when the method is picked. A number with both bounds at most SLIDER_SPAN apart
// is a slider (gamma in [0, 1]), any other number a number field (Karcher's max_iter in
// [0, 1000], where a slider's steps would be too coarse), a bool a checkbox, a choice a select. A value the user set is
// kept for the next method that reads a parameter of that name; the others start afresh
// (one method's default is not another's: normalize).
import * as Methods from '../methods.js';
import { controlled, startValue } from './merge_config.js';

const SLIDER_STEPS = 100;
const SLIDER_SPAN = 10;
const bounded = (p) => p.kind === 'number' && Number.isFinite(p.min) && Number.isFinite(p.max) && p.max - p.min <= SLIDER_SPAN;

function makeControl(p, value) {
  const label = document.createElement('label');
  label.className = p.kind === 'bool' ? 'field pg-check' : 'field pg-slider';
  const name = document.createElement('span');
  name.className = 'pg-param-name';
  name.textContent = p.name;
  let input;
  if (p.kind === 'choice') {
    input = document.createElement('select');
    for (const c of p.choices) input.add(new Option(c, c));
    input.value = value;
  } else {
    input = document.createElement('input');
    if (p.kind === 'bool') {
      input.type = 'checkbox';
      input.checked = Boolean(value);
    } else if (bounded(p)) {
      input.type = 'range';
      input.min = String(p.min);
      input.max = String(p.max);
      input.step = String((p.max - p.min) / SLIDER_STEPS);
      input.value = String(value);
    } else {
      input.type = 'number';
      input.step = 'any';
      if (Number.isFinite(p.min)) input.min = String(p.min);
      input.value = String(value);
    }
  }
  input.dataset.testid = `pg-param-${p.name}`;
  input.dataset.param = p.name;
  const range = Methods.rangeText(p);
  label.title = `${p.name}${p.scope === 'model' ? ' (the same for every fine-tune)' : ''}` +
    `${p.default === null || p.default === undefined ? '' : `, default ${Methods.defaultText(p)}`}${range ? `, in ${range}` : ''}`;
  if (p.kind === 'bool') label.append(input, ' ', name);
  else if (input.type === 'range') {
    const row = document.createElement('span');
    row.className = 'pg-slider-row';
    row.append(input, document.createElement('output'));
    label.append(name, row);
  } else label.append(name, input);
  return label;
}

function readControl(input) {
  if (input.type === 'checkbox') return input.checked;
  if (input.tagName === 'SELECT') return input.value;
  return Number(input.value);
}

// container: where the controls go -> {show(method), values()}
function createParamControls(container) {
  const kept = {};  // name -> the last value the user set, across methods
  let shown = null;
  container.addEventListener('input', (e) => {
    if (e.target.dataset.param) kept[e.target.dataset.param] = readControl(e.target);
  });

  // The values of the shown method's controls, as buildConfig takes them.
  function values() {
    const out = {};
    for (const input of container.querySelectorAll('[data-param]')) {
      out[input.dataset.param] = readControl(input);
      const output = input.parentElement.querySelector('output');
      if (output) output.textContent = Number(input.value).toFixed(2);
    }
    return out;
  }

  function show(method) {
    if (method === shown) return;
    shown = method;
    container.replaceChildren(...controlled(method).map((p) => makeControl(p, p.name in kept ? kept[p.name] : startValue(p))));
    container.hidden = container.children.length === 0;
    values();
  }

  return { show, values };
}

export { createParamControls };
