// What a method does, in the catalogue's words, next to the method picker: its title
// linked to its paper, the one-line summary, the formula and the models it takes
// (renderAbout); and every method so, in a list to read before choosing, each with a
// button that picks it (renderMethodList).
import { countText } from './methods.js';

function node(tag, { className, text, testid } = {}) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  if (testid) el.dataset.testid = testid;
  return el;
}

function paperLink(method) {
  const a = node('a', { className: 'method-title', text: method.title });
  a.href = method.url;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  a.title = `Where ${method.title} comes from (opens a new tab)`;
  return a;
}

// The parts every description has: title and summary, formula, model count.
function describe(method) {
  const head = node('p', { className: 'method-head' });
  head.append(paperLink(method), ' ', node('code', { className: 'method-name', text: method.name }));
  const formula = node('p', { className: 'method-formula' });
  formula.append(node('code', { text: method.formula || '' }));
  formula.hidden = !method.formula;
  return [head, node('p', { className: 'method-summary', text: method.summary, testid: 'method-summary' }), formula,
    node('p', { className: 'method-takes', text: `Takes ${countText(method)}.` })];
}

// el: the about block; method: the catalogue entry shown (null: say why there is none).
function renderAbout(el, method, { catalogueLoaded }) {
  if (!method) {
    el.replaceChildren(node('p', { className: 'hint', text: catalogueLoaded ? 'The engine does not know this method.'
      : 'The method list comes from the engine, which has not answered.' }));
    return;
  }
  el.replaceChildren(...describe(method));
  el.dataset.method = method.name;
}

// el: the list's container (a <details>' body); onPick(name) when a method's button is used.
function renderMethodList(el, methods, { current, disabled, onPick }) {
  el.replaceChildren(...methods.map((m) => {
    const item = node('li', { className: 'method-entry' });
    item.dataset.method = m.name;
    const use = node('button', { className: 'link-button method-use', text: m.name === current ? 'In use' : 'Use this method' });
    use.type = 'button';
    use.disabled = disabled || m.name === current;
    use.addEventListener('click', () => onPick(m.name));
    item.append(...describe(m), use);
    return item;
  }));
}

export { renderAbout, renderMethodList };
