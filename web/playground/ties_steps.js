// TIES step by step (data-testid=ties-steps), from the engine's 'explain' event for a
// window of one tensor: each model's task vector δ, what survives the trim (or DARE's
// drop and rescale), the elected sign, where each model agrees with it, and the merged δ,
// as small heatmaps with counts; which of these a method has is the catalogue's word (its
// stages), not this file's. Every panel carries its count in data-count.
const PX = 8;  // screen pixels per element

function heatmap(values, columns, { scale, kind }) {
  const rows = Math.ceil(values.length / columns);
  const canvas = document.createElement('canvas');
  canvas.width = columns;
  canvas.height = rows;
  canvas.style.width = `${columns * PX}px`;
  canvas.style.height = `${rows * PX}px`;
  canvas.className = 'heatmap';
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(columns, rows);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    let rgb;
    if (kind === 'mask') rgb = v ? [38, 52, 70] : [238, 241, 245];
    else {
      const t = Math.min(1, Math.abs(v) / scale) ** 0.7;
      const end = v >= 0 ? [33, 102, 172] : [196, 64, 40];
      rgb = v === 0 ? [250, 250, 250] : end.map((c) => Math.round(255 + (c - 255) * (0.12 + 0.88 * t)));
    }
    image.data.set([...rgb, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}

const nonZero = (xs) => xs.reduce((n, x) => n + (x !== 0 ? 1 : 0), 0);
const maxAbs = (rows) => Math.max(1e-12, ...rows.map((xs) => Math.max(...xs.map(Math.abs))));

function panel(title, canvas, count, data) {
  const figure = document.createElement('figure');
  figure.className = 'step-panel';
  Object.assign(figure.dataset, data);
  const caption = document.createElement('figcaption');
  caption.innerHTML = `<span class="step-title"></span> <span class="step-count"></span>`;
  caption.querySelector('.step-title').textContent = title;
  caption.querySelector('.step-count').textContent = count;
  figure.append(canvas, caption);
  return figure;
}

function row(title, about, panels) {
  const section = document.createElement('div');
  section.className = 'step-row';
  const head = document.createElement('div');
  head.className = 'step-head';
  head.innerHTML = '<strong></strong><span class="muted"></span>';
  head.querySelector('strong').textContent = title;
  head.querySelector('span').textContent = about;
  const body = document.createElement('div');
  body.className = 'step-panels';
  body.append(...panels);
  section.append(head, body);
  return section;
}

// The explain event restricted to the crop: every per-element array indexed by pick (a
// stage of its own, such as Arcee Fusion's importance, too: one array, or one per model).
function crop(event, pick) {
  const take = (xs) => pick.map((i) => xs[i]);
  const out = { count: pick.length };
  for (const key of new Set(['delta', 'kept', 'weighted', 'agree', 'sign', 'mixed', 'result', ...(event.stages || [])])) {
    const v = event[key];
    if (Array.isArray(v)) out[key] = Array.isArray(v[0]) ? v.map(take) : take(v);
  }
  return out;
}

// A stage this view has no words for: its values as the engine names them, per model or one map.
function otherStage(name, values, names, columns, step) {
  const perModel = Array.isArray(values[0]);
  const maps = perModel ? values : [values];
  const scale = maxAbs(maps);
  return row(step(name), `what the method reports as its ${name} step; colour scale ±${scale.toPrecision(2)}`,
    maps.map((xs, k) => panel(perModel ? names[k] || `model ${k}` : name, heatmap(xs, columns, { scale }),
      `${nonZero(xs)} non-zero`, { step: name, ...(perModel ? { model: String(k) } : {}), count: String(nonZero(xs)) })));
}

// container: the element to fill; event: the engine's explain event; method: the merge's
// method (the catalogue's entry); methods: every method offered (for the hint); pick: the
// crop's indices into the event's arrays; models: their names in config order; columns:
// elements per heatmap row; what: the crop in words.
//
// The rows are the stages the method lists (its catalogue entry's `stages`, which the
// explain event carries), in that order; the view draws those it has a picture for
// ('weighted' and 'result' are in the numbers of the others).
function renderSteps(container, { event: explained, method, methods, pick, models, columns, what }) {
  const event = crop(explained, pick);
  const stages = explained.stages || method.stages;
  const c = event.count;
  const K = event.delta ? event.delta.length : 0;
  const deltaScale = event.delta ? maxAbs(event.delta) : 0;
  const names = K ? models.slice(0, K) : models;
  const rows = [];
  let number = 0;
  const step = (title) => `${++number}. ${title}`;
  const electing = stages.includes('sign');

  for (const stage of stages) {
    if (stage === 'delta') {
      const [title, about] = method.needs_base ? ['Task vectors δ', 'each fine-tune minus the base']
        : ['Models', `${method.title} uses no base: each model’s own values`];
      rows.push(row(step(title), `${about}, ${what}; colour scale ±${deltaScale.toPrecision(2)}`,
        names.map((m, k) => panel(m, heatmap(event.delta[k], columns, { scale: deltaScale }),
          `${nonZero(event.delta[k])} of ${c} changed`, { step: 'delta', model: String(k), count: String(nonZero(event.delta[k])) }))));
    } else if (stage === 'kept') {
      rows.push(row(step('Kept'), 'what each model keeps of its δ (the density says how much), rescaled as the method says',
        names.map((m, k) => panel(m, heatmap(event.kept[k], columns, { scale: deltaScale }),
          `${nonZero(event.kept[k])} kept`, { step: 'kept', model: String(k), count: String(nonZero(event.kept[k])) }))));
    } else if (stage === 'sign') {
      rows.push(...election(event, names, columns, step));
    } else if (stage === 'mixed') {
      const mixedScale = maxAbs([event.mixed]);
      const lambda = method.params.some((p) => p.name === 'lambda') ? ', before λ' : '';
      rows.push(row(step('Merged δ'),
        electing ? `the mean of the agreeing values (disjoint mean)${lambda}` : `the weighted sum (or mean) of the values above${lambda}`,
        [panel('merged δ', heatmap(event.mixed, columns, { scale: mixedScale }), `${nonZero(event.mixed)} non-zero`,
          { step: 'mixed', count: String(nonZero(event.mixed)) })]));
    } else if (!['weighted', 'result'].includes(stage) && event[stage]) {
      rows.push(otherStage(stage, event[stage], names, columns, step));
    }
  }

  const note = document.createElement('p');
  note.className = 'hint';
  const withElection = methods.filter((m) => m.stages.includes('sign')).map((m) => m.title);
  // A method that works on whole tensors (SLERP's angle, Model Stock's cosines) reports only its result.
  const wholeTensor = rows.length ? '' : ` ${method.title} computes on the whole tensor, not element by element: it ` +
    'reports only its result, so there are no steps to show here.';
  note.textContent = `${method.title}: ${method.summary}${wholeTensor}` + (electing || !withElection.length ? ''
    : ` It elects no sign: choose ${withElection.join(' or ')} to see the election.`);
  container.replaceChildren(...rows, note);
}

// The 'sign' stage: the elected sign, then where each model agrees with it.
function election(event, names, columns, step) {
  const c = event.count;
  // Where nothing was kept the election is moot (the engine says +): shown blank.
  const anyKept = Array.from({ length: c }, (_, i) => event.kept.some((kept) => kept[i] !== 0));
  const shown = event.sign.map((s, i) => (anyKept[i] ? s : 0));
  const plus = shown.filter((s) => s > 0).length;
  const minus = shown.filter((s) => s < 0).length;
  let conflicts = 0;
  for (let i = 0; i < c; i++) {
    const signs = new Set(event.kept.map((kept) => Math.sign(kept[i])).filter((s) => s !== 0));
    if (signs.size > 1) conflicts++;
  }
  const sign = row(step('Elect a sign'), `per element, the sign of Σ w·δ over the kept values; ${conflicts} elements have kept values of both signs`,
    [panel('elected sign', heatmap(shown, columns, { scale: 1 }), `+ ${plus}, − ${minus}, nothing kept ${c - plus - minus}`,
      { step: 'sign', count: String(plus), minus: String(minus), conflicts: String(conflicts) })]);
  const agreement = row(step('Agreement'),
    'where each model’s kept δ has the elected sign (dark): only these are merged',
    names.map((m, k) => {
      const agree = event.agree[k].filter((a) => a).length;
      const dropped = nonZero(event.kept[k]) - agree;
      return panel(m, heatmap(event.agree[k], columns, { kind: 'mask' }), `agrees at ${agree}, outvoted at ${dropped}`,
        { step: 'agree', model: String(k), count: String(agree), outvoted: String(dropped) });
    }));
  return [sign, agreement];
}

export { renderSteps };
