// The two charts' merges, run through the engine like every other playground merge:
//   growth: normalized accuracy by method as the number of merged tasks grows (the TIES
//           paper's comparison): every subset of the tasks, merged by every method that
//           combines models (the catalogue's models.min/max say which sizes it takes);
//   drops:  accuracy of each fine-tune alone after dropping a fraction p of its task
//           vector (the DARE paper's sweep): random drops, rescaled by each rescale_mode
//           the method offers or not at all, against magnitude pruning (keep the largest
//           1 − p: a method needing magnitude cuts, given one model, does exactly that).
// Methods come from the engine's catalogue; a chart leaves out what it offers no method for.
// Results come back in small batches between the sliders' merges (playground_client.js).
import * as MC from './merge_config.js';
import * as Methods from '../methods.js';

const BATCH = 1;  // merges per request: a slider's merge waits for at most one
const DROP_RATES = [0, 0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99];
const DROP_SEEDS = 3;  // random drops are averaged over the chosen seed and the next ones
// How each rescale_mode reads in the legend (another mode is shown by its name).
const RESCALE_WORDS = { inverse_density: 'by 1/(1−p) (paper)', l1: 'to the same L1 norm (mergekit)' };

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

function subsets(names) {
  const out = [];
  for (let mask = 1; mask < 1 << names.length; mask++) out.push(names.filter((_, i) => mask & (1 << i)));
  return out;
}

// The growth chart's methods: those that combine models (several, or the base and one).
const growthMethods = (methods) => methods.filter(Methods.combines);

// -> [{key, config, tasks}] of the growth chart for these settings {density, lambda, seed,
// values} (values: the other parameters' controls; a method's others start as
// merge_config.js's valuesFor says)
function growthItems(names, settings, methods) {
  const items = [];
  for (const m of growthMethods(methods)) {
    for (const subset of subsets(names).filter((s) => Methods.takes(m, s.length))) {
      const config = MC.buildConfig({ ...settings, rescale: MC.DEFAULT, models: subset.map((name) => ({ name, weight: 1 })) }, m);
      items.push({ key: { method: m.name, size: subset.length }, config, tasks: subset });
    }
  }
  return items;
}

// The drop chart's series: [{id, label, method, rescale, random}]. Random drops: a method
// with a density and no magnitude cuts (the one without a sign election, which one model
// makes moot); magnitude pruning: a method with a density that needs magnitude cuts.
function dropVariants(methods) {
  const dense = methods.filter((m) => Methods.has(m, 'density'));
  const randoms = dense.filter((m) => !m.needs.includes('magnitude_cuts'));
  const random = randoms.find((m) => !m.stages.includes('sign')) || randoms[0];
  const magnitude = dense.find((m) => m.needs.includes('magnitude_cuts'));
  const out = [];
  if (random) {
    for (const choice of MC.rescaleChoices(random).filter((c) => c !== MC.DEFAULT)) {
      out.push({ id: `random-${choice}`, method: random, rescale: choice, random: true,
        label: choice === MC.OFF ? `${random.title}, not rescaled` : `${random.title}, rescaled ${RESCALE_WORDS[choice] || choice}` });
    }
  }
  if (magnitude) out.push({ id: 'magnitude', method: magnitude, rescale: MC.DEFAULT, random: false,
    label: `${magnitude.title} of one model: keep the largest (magnitude pruning)` });
  return out;
}

function dropItems(names, seed, methods) {
  const items = [];
  for (const v of dropVariants(methods)) {
    DROP_RATES.forEach((p, i) => {
      for (let s = seed; s < seed + (v.random ? DROP_SEEDS : 1); s++) {
        for (const name of names) {
          const config = MC.buildConfig({ density: Number((1 - p).toFixed(4)), lambda: 1, seed: s, rescale: v.rescale,
            models: [{ name, weight: 1 }] }, v.method);
          items.push({ key: { variant: v.id, rate: i }, config, tasks: [name] });
        }
      }
    });
  }
  return items;
}

// scheduler: playground_client.js's; own: {task: the fine-tune's accuracy on it};
// methods: the engine's catalogue; onUpdate(kind, table, done, failures): kind 'growth' ->
// table[method][size-1] = mean normalized accuracy so far (null until a value, or where
// the method takes no such number of models); 'drops' -> table[variant][rate] = mean
// accuracy. A merge the engine refuses leaves its point out (null: a mean over the rest
// would not be comparable) and is counted in failures[row] = {count, message}, so the
// chart goes on and its note can say what failed.
function createSweeps({ scheduler, names, own, methods, onUpdate }) {
  const generation = { growth: 0, drops: 0 };

  // place(item) -> [row, column]; measure(item, accuracy) -> the value it adds there
  async function run(kind, items, { place, measure }, rows, columns) {
    const mine = ++generation[kind];
    const sums = Object.fromEntries(rows.map((r) => [r, Array.from({ length: columns }, () => [])]));
    const failed = Object.fromEntries(rows.map((r) => [r, new Set()]));
    const failures = {};
    const table = () => Object.fromEntries(rows.map((r) => [r, sums[r].map((xs, c) => (xs.length && !failed[r].has(c) ? mean(xs) : null))]));
    for (let i = 0; i < items.length; i += BATCH) {
      const batch = items.slice(i, i + BATCH);
      const answer = await scheduler.later('batch', { items: batch.map(({ config, tasks }) => ({ config, tasks })) });
      if (generation[kind] !== mine || !answer) return;  // settings changed: a newer run took over
      answer.results.forEach((r, j) => {
        const [row, column] = place(batch[j]);
        if (r.error) {
          failed[row].add(column);
          failures[row] = { count: (failures[row] ? failures[row].count : 0) + 1, message: r.error };
        } else sums[row][column].push(measure(batch[j], r.accuracy));
      });
      onUpdate(kind, table(), i + BATCH >= items.length, failures);
    }
  }

  // settings: {density, lambda, seed, values}
  function runGrowth(settings) {
    return run('growth', growthItems(names, settings, methods), {
      place: (item) => [item.key.method, item.key.size - 1],
      measure: (item, acc) => mean(item.tasks.map((t) => acc[t] / own[t])),
    }, growthMethods(methods).map((m) => m.name), names.length);
  }

  function runDrops(seed) {
    return run('drops', dropItems(names, seed, methods), {
      place: (item) => [item.key.variant, item.key.rate],
      measure: (item, acc) => acc[item.tasks[0]],
    }, dropVariants(methods).map((v) => v.id), DROP_RATES.length);
  }

  return { runGrowth, runDrops };
}

export { createSweeps, DROP_RATES, growthMethods, growthItems, dropVariants, dropItems, BATCH };
