// Live continued training for the lab's views: trains several networks side by side, the
// same steps on the same batches each (lab_train.js), a slice of steps at a time so the
// page stays responsive, measuring each on the test points every `every` steps; and the
// Train/Stop buttons and curves a view wires to it.
import { createTrainer } from './lab_train.js';
import { evaluate } from './lab_net.js';
import { renderLineChart } from '../playground/line_chart.js';

const SLICE_MS = 25;  // the longest the page is busy between two frames
const STEPS = 300;
const EVERY = 25;

// nets: {label: net}; onPoint(step, {label: evaluation}); onDone(stopped) -> {stop()}
function runTraining({ nets, set, steps, every, onPoint, onDone }) {
  const trainers = Object.fromEntries(Object.entries(nets).map(([label, net]) => [label, createTrainer(net)]));
  const measure = () => Object.fromEntries(Object.entries(nets).map(([label, net]) => [label, evaluate(net, set)]));
  let stopped = false;
  let done = 0;
  onPoint(0, measure());
  function slice() {
    if (stopped) return;
    const until = performance.now() + SLICE_MS;
    while (done < steps && performance.now() < until) {
      for (const t of Object.values(trainers)) t.step();
      done++;
      if (done % every === 0 || done === steps) onPoint(done, measure());
    }
    if (done < steps) setTimeout(slice, 0);
    else onDone(false);
  }
  setTimeout(slice, 0);
  return {
    stop() {
      if (stopped || done >= steps) return;
      stopped = true;
      onDone(true);
    },
  };
}

// One metric's curves, a line per series ({key, label, color, dash}) of curves[key][metric].
function drawCurves(el, curves, series, metric) {
  const labels = curves.steps.map(String);
  const values = series.map((s) => ({ label: s.label, color: s.color, dash: s.dash, values: curves[s.key][metric] }));
  const axis = metric === 'accuracy'
    ? { yTitle: 'test accuracy', yMin: 0, yMax: 1, yTicks: [0, 0.5, 1], yFormat: (v) => `${Math.round(100 * v)}%` }
    : (() => {
      const top = Math.max(0.5, ...values.flatMap((s) => s.values));
      return { yTitle: 'test loss', yMin: 0, yMax: top, yTicks: [0, top / 2, top], yFormat: (v) => v.toFixed(2) };
    })();
  renderLineChart(el, { xLabels: labels, xTitle: 'SGD steps', ...axis, series: values });
}

// A view's training: the Train button trains nets() (null: nothing to train yet) for STEPS;
// Stop (or stop()) ends it. marker.dataset.training: running | done | stopped, and
// marker.dataset.table the curves {steps, [key]: {accuracy, loss}} so far.
// onPoint(step, evals, curves) draws. -> {stop()}
function trainingControls({ train, stop, progress, marker, set, series, nets, onPoint }) {
  let running = null;
  train.addEventListener('click', () => {
    const picked = nets();
    if (!picked || running) return;
    const curves = { steps: [] };
    for (const s of series) curves[s.key] = { accuracy: [], loss: [] };
    marker.dataset.training = 'running';
    train.disabled = true;
    stop.disabled = false;
    running = runTraining({ nets: picked, set, steps: STEPS, every: EVERY,
      onPoint(step, evals) {
        curves.steps.push(step);
        for (const s of series) {
          curves[s.key].accuracy.push(evals[s.key].accuracy);
          curves[s.key].loss.push(evals[s.key].loss);
        }
        progress.textContent = `Step ${step} of ${STEPS}: ` +
          series.map((s) => `${s.label} ${(100 * evals[s.key].accuracy).toFixed(1)}% (loss ${evals[s.key].loss.toFixed(4)})`).join(', ') + '.';
        onPoint(step, evals, curves);
        marker.dataset.table = JSON.stringify(curves);
      },
      onDone(stopped) {
        running = null;
        marker.dataset.training = stopped ? 'stopped' : 'done';
        train.disabled = false;
        stop.disabled = true;
        if (stopped) progress.textContent += ' Stopped.';
      } });
  });
  const halt = () => { if (running) running.stop(); };
  stop.addEventListener('click', halt);
  return { stop: halt };
}

export { runTraining, trainingControls, drawCurves, STEPS };
