// The evaluation's progress, a line per model: waiting, then its layers as the engine
// passes them (all the text's windows go through one layer before the next; when their
// activations do not fit the budget together, group by group), then the wall time its
// evaluation took.
import { formatDuration } from './shared/format.js';

// el: the <ol> the lines go in
function createEvalProgress(el) {
  let lines = [];

  function line(name) {
    const li = document.createElement('li');
    const label = Object.assign(document.createElement('span'), { className: 'eval-progress-name', textContent: name });
    const bar = Object.assign(document.createElement('div'), { className: 'progress' });
    const fill = Object.assign(document.createElement('div'), { className: 'progress-fill' });
    const text = Object.assign(document.createElement('span'), { className: 'eval-progress-text', textContent: 'waiting' });
    bar.append(fill);
    li.append(label, bar, text);
    return { li, bar, fill, text };
  }

  const at = (i) => lines[i] || null;
  const setFraction = (l, f) => { l.fill.style.width = `${Math.max(0, Math.min(1, f)) * 100}%`; };

  return {
    // names: the models, in the job's order
    start(names) {
      lines = names.map(line);
      el.replaceChildren(...lines.map((l) => l.li));
      el.hidden = false;
    },
    // eval_start: {layers, windows, groups}
    started(i, { layers, windows, groups = 1 }) {
      const l = at(i);
      if (!l) return;
      l.windows = `${windows} window${windows === 1 ? '' : 's'}${groups > 1 ? ` in ${groups} groups` : ''}`;
      l.text.textContent = `${l.windows} · layer 0 of ${layers * groups}`;
    },
    // eval_layer: after layer `layer` (0-based) of window group `group`
    layer(i, { layer, layers, group = 0, groups = 1 }) {
      const l = at(i);
      if (!l) return;
      const done = group * layers + layer + 1;
      const total = groups * layers;
      setFraction(l, total > 0 ? done / total : 0);
      // After the last layer: the output head's log-softmax over the vocabulary, then the result.
      l.text.textContent = `${l.windows} · layer ${done} of ${total}${done === total ? ' · scoring the tokens' : ''}`;
    },
    done(i, seconds) {
      const l = at(i);
      if (!l) return;
      setFraction(l, 1);
      l.bar.classList.add('done');
      l.text.textContent = `done in ${formatDuration(seconds)}`;
    },
    clear() {
      lines = [];
      el.replaceChildren();
      el.hidden = true;
    },
  };
}

export { createEvalProgress };
