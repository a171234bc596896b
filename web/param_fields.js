// The form's fields for a method's global parameters, made from the catalogue: a number
// is a text field (a value, a gradient or a filter list, as YAML), a bool or a choice a
// select whose first option is the method's default. A required parameter is marked, the
// default is the placeholder, a range is said under the field (as the engine words it).
// The fields are made again only when the method changes, so typing keeps its caret.
import * as Methods from './methods.js';
import { inline } from './config_yaml.js';
import { fieldValue, isNumberish } from './field_value.js';

const DEFAULT = '';  // a select's "method default" option: the config leaves the key out

function hintText(p) {
  const parts = [];
  if (p.required) parts.push('required');
  const range = Methods.rangeText(p);
  if (range) parts.push(`in ${range}`);
  return parts.join(', ');
}

function makeField(p, onValue) {
  const label = document.createElement('label');
  label.className = 'field param-field';
  label.dataset.param = p.name;
  const name = document.createElement('span');
  name.className = 'param-name';
  name.textContent = p.name;
  if (p.required) name.dataset.required = 'true';
  label.append(name);
  let control;
  if (p.kind === 'number') {
    control = document.createElement('input');
    control.inputMode = 'decimal';
    control.autocomplete = 'off';
    control.placeholder = p.default === null || p.default === undefined ? 'required' : Methods.defaultText(p);
    control.addEventListener('input', () => onValue(p.name, fieldValue(control, isNumberish)));
  } else {
    control = document.createElement('select');
    control.add(new Option(`Method default (${Methods.defaultText(p) || 'none'})`, DEFAULT));
    const values = p.kind === 'bool' ? [['true', 'yes'], ['false', 'no']] : p.choices.map((c) => [c, c]);
    for (const [value, text] of values) control.add(new Option(text, value));
    control.addEventListener('change', () => {
      const v = control.value;
      onValue(p.name, v === DEFAULT ? null : p.kind === 'bool' ? v === 'true' : v);
    });
  }
  control.id = `param-${p.name}`;
  control.dataset.param = p.name;
  label.append(control);
  const hint = hintText(p);
  if (hint) {
    const small = document.createElement('span');
    small.className = 'param-hint';
    small.textContent = hint;
    label.append(small);
  }
  return label;
}

// container: where the fields go; onValue(name, value): a field changed (null: back to
// the method's default; undefined: not a value yet, nothing to change).
function createParamFields(container, onValue) {
  let shownFor = null;  // the method whose fields are shown

  // method: the catalogue entry (null: no fields); values: the config's global parameters;
  // invalid: names of the parameters the page found at fault (method_check.js).
  function render({ method, values, disabled, invalid = new Set() }) {
    if (method !== shownFor) {
      shownFor = method;
      container.replaceChildren(...(method ? Methods.globalParams(method).map((p) => makeField(p, onValue)) : []));
    }
    container.hidden = container.children.length === 0;
    for (const control of container.querySelectorAll('[data-param]:is(input, select)')) {
      const name = control.dataset.param;
      const v = values[name];
      control.disabled = disabled;
      if (document.activeElement !== control) {  // else the user is typing here: keep the caret
        if (control.tagName === 'SELECT') control.value = v === undefined ? DEFAULT : String(v);
        else control.value = inline(v);
        control.removeAttribute('aria-invalid');
      }
      if (invalid.has(name)) control.setAttribute('aria-invalid', 'true');
    }
  }

  return { render };
}

export { createParamFields };
