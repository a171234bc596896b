// The progress bar: bytes done of total, the tensor being merged, rate and time left; for
// an upcycling with hidden-state gates, first the routers' forward pass, layer by layer.
import { formatBytes, formatDuration } from './shared/format.js';

// el: {bar, fill, stats, tensor}
function createProgressView(el) {
  let started = 0;
  let writingFrom = 0;  // the rate and time left are the writing's, not the forward pass's

  function setFraction(fraction) {
    const percent = Math.max(0, Math.min(100, fraction * 100));
    el.fill.style.width = `${percent}%`;
    el.bar.setAttribute('aria-valuenow', percent.toFixed(0));
  }

  return {
    reset(text = 'Ready.') {
      started = 0;
      setFraction(0);
      el.bar.classList.remove('done');
      el.stats.textContent = text;
      el.tensor.textContent = '';
    },
    starting(text) {
      this.reset(text);
      started = performance.now();
      writingFrom = started;
    },
    // embedOnly: cheap_embed's routers, which the engine reports as one step of no forward pass.
    forward({ layer, layers }, { embedOnly = false } = {}) {
      setFraction(layers > 0 ? layer / layers : 0);
      el.stats.textContent = embedOnly ? "Routers from the prompts' embeddings…" : `Router forward pass: layer ${layer} of ${layers}`;
      el.tensor.textContent = '';
      writingFrom = performance.now();
    },
    update({ bytes_done: done, bytes_total: total, tensor, tensor_index: index, tensor_count: count }) {
      const seconds = (performance.now() - writingFrom) / 1000;
      const rate = seconds > 0.05 ? done / seconds : 0;
      const left = rate > 0 ? (total - done) / rate : NaN;
      setFraction(total > 0 ? done / total : 0);
      el.stats.textContent = `${formatBytes(done)} of ${formatBytes(total)} read · ` +
        (rate > 0 ? `${formatBytes(rate)}/s · about ${formatDuration(left)} left` : 'measuring speed…');
      el.tensor.textContent = tensor ? `tensor ${Math.min(index + 1, count)} of ${count}: ${tensor}` : '';
    },
    finished(text, { ok }) {
      if (ok) setFraction(1);
      el.bar.classList.toggle('done', ok);
      el.stats.textContent = text;
      el.tensor.textContent = '';
    },
    elapsedSeconds: () => (performance.now() - started) / 1000,
  };
}

export { createProgressView };
