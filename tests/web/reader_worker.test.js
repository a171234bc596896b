'use strict';
// The page's reader worker (web/reader.worker.js) in node: reads that run across its 16 MB
// pieces, go back to the piece before, are longer than a piece or run past the end. Each
// read is checked byte for byte against the file, and the Blob reads are counted: reading a
// file front to back reads each piece once.
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const { test, assert } = require('../cli/harness');

const MB = 1 << 20;
const SOURCE = fs.readFileSync(path.join(__dirname, '../../web/reader.worker.js'), 'utf8');

// A file of n pseudo-random bytes that counts the slices read from it.
function countedFile(n, seed) {
  const bytes = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  const blob = new Blob([bytes]);
  return { size: n, bytes, slices: 0, slice(a, b) { this.slices++; return blob.slice(a, b); } };
}

// -> read(file index, offset, length) resolving to {state, bytes, message}.
function startReader(files) {
  const self = {};
  self.postMessage = () => {};
  vm.runInNewContext(SOURCE, { self, Blob, TextEncoder, Atomics, Int32Array, Uint8Array, ArrayBuffer, Promise,
    setTimeout, clearTimeout, Math, Set, Error, String });
  const control = new Int32Array(new SharedArrayBuffer(16 + 512));
  self.onmessage({ data: { files, control: control.buffer } });
  const heap = new SharedArrayBuffer(48 * MB);
  return async (file, offset, length) => {
    Atomics.store(control, 0, 1);
    await self.onmessage({ data: { file, offset, length, heap, at: 8 } });
    const message = new TextDecoder().decode(new Uint8Array(control.buffer, 16, control[1]).slice());
    return { state: control[0], bytes: new Uint8Array(heap, 8, length), message };
  };
}

const expectBytes = (got, file, offset, length) =>
  assert.ok(Buffer.compare(Buffer.from(got.bytes), Buffer.from(file.bytes.subarray(offset, offset + length))) === 0,
    `bytes ${offset}..${offset + length} differ`);

test('reader worker: front-to-back reads across pieces read each piece once, with the right bytes', async () => {
  const files = [countedFile(40 * MB + 123, 1), countedFile(5 * MB, 2)];
  const read = startReader(files);
  const step = 3 * MB + 17;  // reads that straddle the 16 MB piece ends
  for (let offset = 0; offset < files[0].size; offset += step) {
    const length = Math.min(step, files[0].size - offset);
    const got = await read(0, offset, length);
    assert.strictEqual(got.state, 2, got.message);
    expectBytes(got, files[0], offset, length);
    const other = await read(1, offset % (4 * MB), 1000);  // the files are read in turn, as the engine does
    expectBytes(other, files[1], offset % (4 * MB), 1000);
  }
  assert.strictEqual(files[0].slices, 3, 'three 16 MB pieces, each read once');
  assert.strictEqual(files[1].slices, 1);
});

test('reader worker: back to the piece before, a read longer than a piece, a read past the end', async () => {
  const file = countedFile(50 * MB, 3);
  const read = startReader([file]);
  for (const [offset, length] of [[15 * MB, 2 * MB], [10 * MB, MB], [17 * MB, 30 * MB - 5], [2 * MB, 100]]) {
    const got = await read(0, offset, length);
    assert.strictEqual(got.state, 2, got.message);
    expectBytes(got, file, offset, length);
  }
  const slicesBefore = file.slices;
  const past = await read(0, 50 * MB - 10, 11);
  assert.strictEqual(past.state, 3);
  assert.match(past.message, /ended early/);
  assert.strictEqual(file.slices, slicesBefore, 'nothing read for a read past the end');
});
