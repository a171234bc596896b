// The reader worker: serves the merge worker's reads of the picked files, copying the
// bytes straight into the engine's shared wasm heap while the merge worker waits on a
// shared flag (blocking_reader.js).
//
// Why a worker of its own: each Blob read costs milliseconds whatever its size, and the
// engine reads in blocks of a few MB, so reading each block when asked for it (as
// FileReaderSync in the merge worker must) spends most of a merge waiting. Here each file
// is read in WINDOW-sized pieces with the asynchronous Blob API, and the piece after the
// one in use is read ahead while the engine computes. Pieces are read with a BYOB stream
// reader into three buffers per file (the piece before, the one in use, the one ahead),
// used in turn: a fresh ArrayBuffer per read would leave hundreds of MB of garbage
// between collections.
//
//   merge worker -> reader: {files: [File, ...], control: SharedArrayBuffer}  (once)
//                           {file, offset, length, heap: SharedArrayBuffer, at}  (a read)
//   reader -> merge worker: {ready: true} after the first message
// control (Int32Array): [0] state 1 = reading, 2 = done, 3 = failed (the message in the
// bytes from CONTROL_TEXT on, [1] its length).
'use strict';
const CONTROL_TEXT = 16;
const WINDOW = 16 * 1024 * 1024;
const STALL_MS = 20000;  // a piece read taking longer than this is retried
let files = null;
let control = null;
// Streams being read, held here: a pending read of a stream nothing else references
// never completed in Chromium 156 (collected mid-read, it seems).
const reading = new Set();
let windows = null;  // per file: {previous, current: piece, ahead: Promise<piece> | null, free: [ArrayBuffer]}
                     // piece: {start, bytes: Uint8Array}
function settle(state, message = '') {
  const text = new TextEncoder().encode(message.slice(0, 500));
  new Uint8Array(control.buffer, CONTROL_TEXT, text.length).set(text);
  control[1] = text.length;
  Atomics.store(control, 0, state);
  Atomics.notify(control, 0);
}

// Reads [start, start + WINDOW) of file (clipped to its end) into buffer.
async function readPiece(file, start, buffer) {
  const n = Math.min(file.size, start + WINDOW) - start;
  const blob = file.slice(start, start + n);
  let stalled;
  let piece;
  try {
    const bytes = await Promise.race([
      readInto(blob, buffer),
      new Promise((resolve) => { stalled = setTimeout(resolve, STALL_MS, null); }),
    ]).finally(() => clearTimeout(stalled));
    // A stream that stopped answering: read the piece again the plain way.
    piece = bytes || new Uint8Array(await blob.arrayBuffer());
  } catch (e) {  // Chromium says "network error" (streams) or NotReadableError for a changed file
    throw new Error(`cannot read the file: was it changed or moved after it was picked? (${e.message || e.name})`);
  }
  if (piece.length !== n) throw new Error('the file ended early (changed after it was picked?)');
  return { start, bytes: piece };
}

// -> the blob's bytes, in buffer where byte streams exist.
async function readInto(blob, buffer) {
  let reader;
  try {
    reader = blob.stream().getReader({ mode: 'byob' });
  } catch {  // no byte streams: a fresh buffer
    return new Uint8Array(await blob.arrayBuffer());
  }
  let filled = 0;
  reading.add(reader);
  try {
    while (filled < blob.size) {
      const { value, done } = await reader.read(new Uint8Array(buffer, filled, blob.size - filled));
      if (done) break;
      buffer = value.buffer;  // handed back (transferred) with the bytes in it
      filled += value.byteLength;
    }
  } finally {
    reading.delete(reader);
  }
  reader.releaseLock();
  return new Uint8Array(buffer, 0, filled);
}

const holds = (piece, offset) => piece && offset >= piece.start && offset < piece.start + piece.bytes.length;

const takeBuffer = (w) => w.free.pop() || new ArrayBuffer(WINDOW);

function giveBack(w, piece) {  // (a piece read the plain way has a buffer of its own size)
  if (piece && piece.bytes.buffer.byteLength === WINDOW) w.free.push(piece.bytes.buffer);
}

// -> the piece of the file holding byte `offset`: the one in use, the one before it (a
// pass over a tensor starts again at its front after TIES samples it further on), the one
// read ahead (the engine reads each file mostly front to back), else one read now.
async function pieceHolding(file, w, offset) {
  if (holds(w.current, offset)) return w.current;
  if (holds(w.previous, offset)) return w.previous;
  const ahead = w.ahead && await w.ahead.catch(() => null);
  w.ahead = null;
  giveBack(w, w.previous);
  w.previous = w.current;
  if (holds(ahead, offset)) w.current = ahead;
  else {
    giveBack(w, ahead);
    w.current = null;
    w.current = await readPiece(file, offset, takeBuffer(w));
  }
  return w.current;
}

// Copies [offset, offset + dst.length) of file `index` into dst, piece by piece: a read
// that runs past the end of a piece takes the rest from the piece read ahead.
async function read(index, offset, dst) {
  const file = files[index];
  const w = windows[index];
  if (offset + dst.length > file.size) throw new Error('the file ended early (changed after it was picked?)');
  for (let done = 0; done < dst.length;) {
    const piece = await pieceHolding(file, w, offset + done);
    const from = offset + done - piece.start;
    const n = Math.min(dst.length - done, piece.bytes.length - from);
    dst.set(piece.bytes.subarray(from, from + n), done);
    done += n;
  }
  const end = w.current ? w.current.start + w.current.bytes.length : file.size;  // none: a piece read failed
  if (!w.ahead && end < file.size) w.ahead = readPiece(file, end, takeBuffer(w));
}

self.onmessage = async ({ data }) => {
  if (data.files) {
    files = data.files;
    windows = files.map(() => ({ previous: null, current: null, ahead: null, free: [] }));
    control = new Int32Array(data.control);
    self.postMessage({ ready: true });
    return;
  }
  const { file, offset, length, heap, at } = data;
  try {
    await read(file, offset, new Uint8Array(heap, at, length));
    settle(2);
  } catch (e) {
    settle(3, e.message || String(e));
  }
};
