'use strict';
// A progress bar on stderr, drawn only when stderr is a terminal.
const { formatBytes } = require('../../web/shared/format.js');

function createProgressBar(stream = process.stderr) {
  const start = Date.now();
  let lastDraw = 0;
  const active = Boolean(stream.isTTY);
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
      const columns = stream.columns || 100;
      stream.write('\r' + line.slice(0, columns - 1).padEnd(columns - 1));
    },
    finish() {
      if (active) stream.write('\r' + ' '.repeat((stream.columns || 100) - 1) + '\r');
    },
  };
}

module.exports = { createProgressBar, formatBytes };
