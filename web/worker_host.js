// The browser host of the wasm engine (the interface is described in src/wasm/host_io.js;
// src/wasm/node_host.js is node's). It runs in the merge worker, inside runJob:
// - inputs: the File objects the user picked, read synchronously (a worker may block; the
//   page may not) by blocking_reader.js: through the reader worker, or FileReaderSync;
// - outputs: entries of one zip on an OPFS sync access handle (zip_container.js), so a
//   10 GB result streams to disk and never sits in memory;
// - cancel: a flag in shared memory that the page sets while the worker is busy.
// files: { lookup(path) -> File | undefined } (file_table.js, or a Map-backed stand-in)
// container: a ZipContainer; cancelFlag: Int32Array on a SharedArrayBuffer, [0] != 0 stops;
// readInto(file, offset, dst): fills dst (a view of the wasm heap) or throws.
function createWorkerHost({ files, container, cancelFlag, readInto }) {
  const inputs = new Map();
  let nextInput = 1;
  let settled = null;  // 'committed' | 'discarded'
  let heapBytes = 0;   // the wasm heap's size as the last read/write saw it (it may grow)
  // Where the time goes (scripts/bench_browser.js reports it): reads, and writes.
  const io = { reads: 0, readBytes: 0, readSeconds: 0, writes: 0, writeBytes: 0, writeSeconds: 0 };

  return {
    fileSize(path) {
      const file = files.lookup(path);
      return file ? file.size : -1;
    },
    open(path) {
      const file = files.lookup(path);
      if (!file) throw new Error('no such file among the selected files');
      const handle = nextInput++;
      inputs.set(handle, file);
      return handle;
    },
    read(handle, offset, dst) {
      const t0 = performance.now();
      readInto(inputs.get(handle), offset, dst);
      heapBytes = Math.max(heapBytes, dst.buffer.byteLength);
      io.reads++;
      io.readBytes += dst.length;
      io.readSeconds += (performance.now() - t0) / 1000;
    },
    close(handle) {
      inputs.delete(handle);
    },
    create(name) {
      return container.begin(name);
    },
    // The engine computes each file's CRC-32 for the zip (on its pool, for merged tensors):
    // in JavaScript on this thread it cost a second per GB written.
    wantsCrc: true,
    write(handle, src, crcSoFar) {
      const t0 = performance.now();
      try {
        container.write(handle, src, crcSoFar);
        io.writes++;
        io.writeBytes += src.length;
        io.writeSeconds += (performance.now() - t0) / 1000;
      } catch (e) {
        if (e && e.name === 'QuotaExceededError')
          throw new Error("the browser's storage for this page is full: free disk space or clear this site's data, then merge again");
        throw e;
      }
    },
    commit() {
      this.entries = container.finish();
      settled = 'committed';
    },
    // Also after a commit that failed half-way: the worker removes the file after runJob.
    discard() {
      if (settled) return;
      settled = 'discarded';
      try {
        container.abort();
      } catch { /* already closed: the file is removed all the same */ }
    },
    cancelled() {
      return Atomics.load(cancelFlag, 0) !== 0;
    },
    get settled() {
      return settled;
    },
    get heapBytes() {
      return heapBytes;
    },
    io,
    entries: null,
  };
}

export { createWorkerHost };
