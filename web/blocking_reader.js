// Synchronous reads of picked files for the merge worker's host, two ways:
// - through the reader worker (reader.worker.js): post the read, block on a shared flag
//   until it has copied the bytes into the wasm heap (the fast way);
// - FileReaderSync over File.slice, where a worker cannot start another worker.
const CONTROL_TEXT = 16;  // as in reader.worker.js
const READY_TIMEOUT_MS = 5000;

// -> read(file, offset, dst) using FileReaderSync
function fileReaderSyncReader() {
  const reader = new FileReaderSync();
  return (file, offset, dst) => {
    let bytes;
    try {
      bytes = reader.readAsArrayBuffer(file.slice(offset, offset + dst.length));
    } catch (e) {
      throw new Error(`cannot read the file: was it changed or moved after it was picked? (${e.message || e.name})`);
    }
    if (bytes.byteLength !== dst.length) throw new Error('the file ended early (changed after it was picked?)');
    dst.set(new Uint8Array(bytes));  // dst is a view of the shared wasm heap
  };
}

// Starts the reader worker for these files; -> {read(file, offset, dst), close()}, or
// null when it cannot start (the caller falls back to FileReaderSync). Must be awaited
// before the engine blocks this thread: a worker starts only while its parent is free.
async function startReaderWorker(fileList, url = new URL('./reader.worker.js', import.meta.url)) {
  let worker;
  try {
    worker = new Worker(url);
  } catch {
    return null;
  }
  const controlBuffer = new SharedArrayBuffer(CONTROL_TEXT + 512);
  const control = new Int32Array(controlBuffer);
  const ready = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
    worker.onmessage = ({ data }) => { clearTimeout(timer); resolve(Boolean(data && data.ready)); };
    worker.onerror = () => { clearTimeout(timer); resolve(false); };
    worker.postMessage({ files: fileList, control: controlBuffer });
  });
  if (!ready) {
    worker.terminate();
    return null;
  }
  const index = new Map(fileList.map((f, i) => [f, i]));
  return {
    read(file, offset, dst) {
      Atomics.store(control, 0, 1);
      worker.postMessage({ file: index.get(file), offset, length: dst.length, heap: dst.buffer, at: dst.byteOffset });
      while (Atomics.load(control, 0) === 1) Atomics.wait(control, 0, 1);
      if (Atomics.load(control, 0) === 3)
        throw new Error(new TextDecoder().decode(new Uint8Array(controlBuffer, CONTROL_TEXT, control[1]).slice()));
    },
    close() {
      worker.terminate();
    },
  };
}

export { fileReaderSyncReader, startReaderWorker };
