// The two charts' merges, run through the engine like every other playground merge:
//   growth: normalized accuracy by method as the number of merged tasks grows (the TIES
//           paper's comparison): every subset of the tasks, merged by every method;
//   drops:  accuracy of each fine-tune alone after dropping a fraction p of its task
//           vector (the DARE paper's sweep): DARE rescaled by 1/(1 - p), DARE rescaled
//           to the same L1 norm (mergekit's default), DARE not rescaled, and magnitude
//           pruning (keep the largest 1 - p: TIES with one model does exactly that).
// Results come back in small batches between the sliders' merges (playground_client.js).
(function (root, factory) {
  root.wasmergeSweeps = factory(root.wasmergeMergeConfig);
})(self, function (MC) {
  'use strict';

  const BATCH = 1;  // merges per request: a slider's merge waits for at most one
  const DROP_RATES = [0, 0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99];
  const DROP_VARIANTS = [
    { id: 'dare_inverse', label: 'DARE, rescaled by 1/(1−p) (paper)', method: 'dare_linear', rescale: 'inverse_density', random: true },
    { id: 'dare_l1', label: 'DARE, rescaled to the same L1 norm (mergekit)', method: 'dare_linear', rescale: 'default', random: true },
    { id: 'dare_off', label: 'DARE, not rescaled', method: 'dare_linear', rescale: 'off', random: true },
    { id: 'magnitude', label: 'Magnitude pruning (keep the largest)', method: 'ties', rescale: 'default', random: false },
  ];
  const DROP_SEEDS = 3;  // random drops are averaged over the chosen seed and the next ones

  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

  function subsets(names) {
    const out = [];
    for (let mask = 1; mask < 1 << names.length; mask++) out.push(names.filter((_, i) => mask & (1 << i)));
    return out;
  }

  // -> [{key, config, tasks}] of the growth chart for these settings {density, lambda, seed}
  function growthItems(names, settings) {
    const items = [];
    for (const m of MC.METHODS) {
      for (const subset of subsets(names)) {
        const { config } = MC.buildConfig({ ...settings, method: m.id, rescale: 'default',
          models: subset.map((name) => ({ name, weight: 1 })) });
        items.push({ key: { method: m.id, size: subset.length }, config, tasks: subset });
      }
    }
    return items;
  }

  function dropItems(names, seed) {
    const items = [];
    for (const v of DROP_VARIANTS) {
      DROP_RATES.forEach((p, i) => {
        for (let s = seed; s < seed + (v.random ? DROP_SEEDS : 1); s++) {
          for (const name of names) {
            const { config } = MC.buildConfig({ method: v.method, density: Number((1 - p).toFixed(4)), lambda: 1, seed: s,
              rescale: v.rescale, models: [{ name, weight: 1 }] });
            items.push({ key: { variant: v.id, rate: i }, config, tasks: [name] });
          }
        }
      });
    }
    return items;
  }

  // scheduler: playground_client.js's; own: {task: the fine-tune's accuracy on it};
  // onUpdate(kind, table, done): kind 'growth' -> table[method][size-1] = mean normalized
  // accuracy so far (null until a value); 'drops' -> table[variant][rate] = mean accuracy.
  function createSweeps({ scheduler, names, own, onUpdate }) {
    let generation = 0;

    async function run(kind, items, cell, rows, columns) {
      const mine = ++generation[kind];
      const sums = Object.fromEntries(rows.map((r) => [r, Array.from({ length: columns }, () => [])]));
      const table = () => Object.fromEntries(rows.map((r) => [r, sums[r].map((xs) => (xs.length ? mean(xs) : null))]));
      for (let i = 0; i < items.length; i += BATCH) {
        const batch = items.slice(i, i + BATCH);
        const answer = await scheduler.later('batch', { items: batch.map(({ config, tasks }) => ({ config, tasks })) });
        if (generation[kind] !== mine || !answer) return;  // settings changed: a newer run took over
        answer.results.forEach((r, j) => {
          if (r.error) throw new Error(r.error);
          const [row, column, value] = cell(batch[j], r.accuracy);
          sums[row][column].push(value);
        });
        onUpdate(kind, table(), i + BATCH >= items.length);
      }
    }

    generation = { growth: 0, drops: 0 };

    // settings: {density, lambda, seed}
    function runGrowth(settings) {
      return run('growth', growthItems(names, settings),
        (item, acc) => [item.key.method, item.key.size - 1, mean(item.tasks.map((t) => acc[t] / own[t]))],
        MC.METHODS.map((m) => m.id), names.length);
    }

    function runDrops(seed) {
      return run('drops', dropItems(names, seed),
        (item, acc) => [item.key.variant, item.key.rate, acc[item.tasks[0]]],
        DROP_VARIANTS.map((v) => v.id), DROP_RATES.length);
    }

    return { runGrowth, runDrops };
  }

  return { createSweeps, DROP_RATES, DROP_VARIANTS, DROP_SEEDS, growthItems, dropItems, BATCH };
});
