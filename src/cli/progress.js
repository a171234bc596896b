'use strict';
// A progress bar on stderr, drawn only when stderr is a terminal: the bytes written, and
// before them, for an upcycling config's hidden-state gates, the routers' forward pass.
const { formatBytes } = require('../../web/shared/format.js');

function createProgressBar(stream = process.stderr) {
  let start = Date.now();  // of the writing: the rate and time left are the writing's
  let lastDraw = 0;
  const active = Boolean(stream.isTTY);
  const draw = (line) => {
    const columns = stream.columns || 100;
    stream.write('\r' + line.slice(0, columns - 1).padEnd(columns - 1));
  };
  return {
    update({ bytes_done: done, bytes_total: total, tensor }) {
      const now = Date.now();
      if (!active || (now - lastDraw < 100 && done < total)) return;
      lastDraw = now;
      const fraction = total > 0 ? done / total : 1;
      const width = 24;
      const filled = Math.round(fraction * width);
      const seconds = (now - start) / 1000;
      const rate = seconds > 0 ? done / seconds : 0;
      const eta = rate > 0 ? Math.ceil((total - done) / rate) + 's' : '?';
      const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ` +
        `${formatBytes(done)}/${formatBytes(total)} ${formatBytes(rate)}/s ETA ${eta} ${tensor}`;
      draw(line);
    },
    // {layer, layers}: the engine's 'forward' event, after each layer of the base model.
    forward({ layer, layers }) {
      start = Date.now();
      if (active) draw(`Router forward pass: layer ${layer} of ${layers}`);
    },
    finish() {
      if (active) stream.write('\r' + ' '.repeat((stream.columns || 100) - 1) + '\r');
    },
  };
}

module.exports = { createProgressBar, formatBytes };
