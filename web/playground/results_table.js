// The accuracy table (data-testid=demo-results): each task's test accuracy for the base,
// each fine-tune alone and the current merge, plus the merge's normalized accuracy (its
// accuracy over each fine-tune's on its own task, averaged: the TIES paper's measure).
// Every cell carries its exact value in data-value for the tests.
const pct = (x) => `${(100 * x).toFixed(1)}%`;
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

function cell(text, { model, task, value, className } = {}) {
  const td = document.createElement('td');
  td.textContent = text;
  if (model) td.dataset.model = model;
  if (task) td.dataset.task = task;
  if (value !== undefined) td.dataset.value = String(value);
  if (className) td.className = className;
  return td;
}

// tasks: [{name, title}]; accuracy: {base: {task: acc}, <task>: {...}} (the fine-tunes)
function createResultsTable(table, note, tasks) {
  const head = document.createElement('thead');
  const headRow = document.createElement('tr');
  for (const text of ['Model', ...tasks.map((t) => t.title), 'Mean over merged tasks']) {
    const th = document.createElement('th');
    th.textContent = text;
    headRow.append(th);
  }
  head.append(headRow);
  const body = document.createElement('tbody');
  table.replaceChildren(head, body);

  // merged: {task: acc} for the merged tasks (null before the first merge);
  // mergedTasks: their names; title: the merge's row title.
  function show({ accuracy, merged, mergedTasks, title }) {
    const own = (t) => accuracy[t][t];
    const rows = [['base', 'Base (never saw these tasks)', accuracy.base]];
    for (const t of tasks) rows.push([t.name, `${t.title} fine-tune`, accuracy[t.name]]);
    body.replaceChildren(...rows.map(([model, label, acc]) => {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = label;
      tr.append(th);
      for (const t of tasks)
        tr.append(cell(pct(acc[t.name]), { model, task: t.name, value: acc[t.name], className: model === t.name ? 'own' : '' }));
      tr.append(cell(mergedTasks.length ? pct(mean(mergedTasks.map((t) => acc[t]))) : '—'));
      return tr;
    }));
    const tr = document.createElement('tr');
    tr.className = 'merge-row';
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = title;
    tr.append(th);
    for (const t of tasks) {
      if (merged && t.name in merged) {
        const ratio = merged[t.name] / own(t.name);
        const td = cell(pct(merged[t.name]), { model: 'merge', task: t.name, value: merged[t.name], className: 'tinted' });
        td.style.setProperty('--keep', String(Math.max(0, Math.min(1, (ratio - 0.5) / 0.5))));
        td.title = `${pct(ratio)} of the ${t.title} fine-tune's accuracy`;
        tr.append(td);
      } else tr.append(cell('—', { model: 'merge', task: t.name, className: 'not-merged' }));
    }
    const values = merged ? mergedTasks.map((t) => merged[t]) : [];
    tr.append(cell(values.length ? pct(mean(values)) : '—', { model: 'merge', task: 'mean', value: values.length ? mean(values) : undefined }));
    body.append(tr);

    if (!merged || !mergedTasks.length) {
      note.textContent = '';
      return;
    }
    const normalized = mean(mergedTasks.map((t) => merged[t] / own(t)));
    const baseNormalized = mean(mergedTasks.map((t) => accuracy.base[t] / own(t)));
    note.dataset.normalized = String(normalized);
    note.textContent = `Normalized accuracy of the merge: ${pct(normalized)} of what each fine-tune reaches on its own task ` +
      `(the base: ${pct(baseNormalized)}). A task left out of the merge keeps the base's head, which has never been trained.`;
  }

  return { show };
}

export { createResultsTable };
