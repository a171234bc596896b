'use strict';
// The two ways the merge worker reads picked files (web/blocking_reader.js): through the
// reader worker and with FileReaderSync, in the browser, against the file's bytes.
const { test, assert } = require('../cli/harness');
const { withApp } = require('./app_session');

test('blocking readers: the reader worker and FileReaderSync give a file\'s bytes, across read-ahead windows', async () => {
  await withApp(async ({ page }) => {
    const mismatches = await page.evaluate(async () => {
      const MB = 1024 * 1024;
      const bytes = new Uint8Array(41 * MB + 5);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
      const file = new File([bytes], 'x.safetensors');
      const worker = new Worker(URL.createObjectURL(new Blob([`
        const reader = import('${location.origin}/blocking_reader.js');
        onmessage = async ({ data: { file, reads } }) => {
          const { startReaderWorker, fileReaderSyncReader } = await reader;
          const viaWorker = await startReaderWorker([file]);
          const viaSync = fileReaderSyncReader();
          const heap = new Uint8Array(new SharedArrayBuffer(64 * 1024 * 1024));
          const out = [];
          for (const [offset, length] of reads) {
            for (const [name, read] of [['worker', viaWorker.read], ['sync', viaSync]]) {
              const dst = heap.subarray(4096, 4096 + length);
              read(file, offset, dst);
              out.push([name, offset, length, dst.slice()]);
            }
          }
          let error = null;
          try { viaWorker.read(file, file.size - 3, heap.subarray(0, 10)); } catch (e) { error = e.message; }
          postMessage({ out, error, usedWorker: Boolean(viaWorker) });
        };`], { type: 'text/javascript' })));
      const reads = [[0, 3 * MB], [3 * MB, 2 * MB], [15 * MB, 3 * MB], [16 * MB + 7, 100], [2 * MB, 20 * MB], [41 * MB - 9, 14], [30 * MB, 1]];
      const { out, error, usedWorker } = await new Promise((resolve) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.postMessage({ file, reads });
      });
      const bad = out.filter(([, offset, length, got]) => got.length !== length ||
        got.some((b, i) => b !== bytes[offset + i])).map(([name, offset, length]) => `${name} ${offset}+${length}`);
      return { bad, error, usedWorker };
    });
    assert.strictEqual(mismatches.usedWorker, true, 'the reader worker did not start');
    assert.deepStrictEqual(mismatches.bad, []);
    assert.match(mismatches.error || '', /ended early/);
  });
});
