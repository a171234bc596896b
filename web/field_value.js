// A typed-in field read as a YAML value (1, 0.5, [0.2, 0.8], [{filter: mlp, value: 0.3}]):
// the form's fields and the models table's cells are read alike.
import yaml from 'js-yaml';

// -> null for an empty field, the value when it parses and check(value) holds, else
// undefined; the field is marked invalid (aria-invalid) in that last case.
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

// A number, a gradient (a list of numbers) or a filter list: what a number parameter takes.
const isNumberish = (v) => typeof v === 'number' || Array.isArray(v);

export { fieldValue, isNumberish };
