'use strict';
// safetensors reading and writing in plain JS, independent of the engine (for the tests,
// the demo and bench generators, scripts/compare_builds.js), and
// exact decoders/encoders for the float dtypes (from their IEEE definitions).
const fs = require('fs');

const SIZES = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

function f16Value(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * (1024 + m) * 2 ** (e - 25);
}

function bf16Value(h) {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setUint32(0, h << 16, true);
  return buf.getFloat32(0, true);
}

// values must be representable in dtype (the generators make sure); bf16/f16 by search
// over the neighbours of the f32 pattern.
function encode(dtype, values) {
  const out = Buffer.alloc(values.length * SIZES[dtype]);
  values.forEach((v, i) => {
    if (dtype === 'F64') out.writeDoubleLE(v, 8 * i);
    else if (dtype === 'F32') out.writeFloatLE(v, 4 * i);
    else if (dtype === 'BF16') {
      const b = Buffer.alloc(4);
      b.writeFloatLE(v, 0);
      out.writeUInt16LE(b.readUInt32LE(0) >>> 16, 2 * i);
    } else if (dtype === 'F16') out.writeUInt16LE(f16Bits(v), 2 * i);
    else if (dtype === 'I64') out.writeBigInt64LE(BigInt(v), 8 * i);
    else throw new Error('encode: ' + dtype);
  });
  return out;
}

function f16Bits(v) {  // v representable in f16
  let h = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === 0) return h;
  const e = Math.floor(Math.log2(a));
  if (e < -14) return h | Math.round(a * 2 ** 24);
  return h | ((e + 15) << 10) | (Math.round(a * 2 ** (10 - e)) - 1024);
}

function decode(dtype, bytes) {
  const n = bytes.length / SIZES[dtype];
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    if (dtype === 'F64') out[i] = bytes.readDoubleLE(8 * i);
    else if (dtype === 'F32') out[i] = bytes.readFloatLE(4 * i);
    else if (dtype === 'F16') out[i] = f16Value(bytes.readUInt16LE(2 * i));
    else if (dtype === 'BF16') out[i] = bf16Value(bytes.readUInt16LE(2 * i));
    else if (dtype === 'I64') out[i] = Number(bytes.readBigInt64LE(8 * i));
    else throw new Error('decode: ' + dtype);
  }
  return out;
}

// The bytes before the data: length + JSON padded to 8, for tensors [{name, dtype, shape,
// bytes}] laid out back to back in that order.
function safetensorsHeader(tensors, metadata) {
  const header = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes] };
    offset += t.bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json)]);
}

// tensors: [{name, dtype, shape, values | data (bytes: Buffer or typed array)}] -> file
function writeSafetensors(file, tensors, metadata) {
  const datas = tensors.map((t) => {
    const d = t.data || encode(t.dtype, t.values);
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  });
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, safetensorsHeader(tensors.map((t, i) => ({ ...t, bytes: datas[i].length })), metadata));
  for (const d of datas) fs.writeSync(fd, d);
  fs.closeSync(fd);
}

// -> { metadata, tensors: Map(name -> {dtype, shape, values, bytes}), order: [names by offset] }
function readSafetensors(file) {
  const bytes = fs.readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  const tensors = new Map();
  const entries = Object.entries(header).filter(([k]) => k !== '__metadata__');
  entries.sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  for (const [name, e] of entries) {
    const data = bytes.subarray(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]);
    const tensor = { dtype: e.dtype, shape: e.shape, bytes: data };
    let values = null;  // decoded on first use: large files are mostly spot-checked
    Object.defineProperty(tensor, 'values', { get: () => (values = values || decode(e.dtype, data)) });
    tensors.set(name, tensor);
  }
  return { metadata: header.__metadata__, tensors, order: entries.map(([k]) => k), headerLength: n };
}

// A deterministic generator (mulberry32) of values on the dtype's grid.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function roundToGrid(dtype, x) {
  if (x === 0) return 0;
  const bits = dtype === 'BF16' ? 8 : dtype === 'F16' ? 11 : 24;
  const e = Math.floor(Math.log2(Math.abs(x)));
  const q = 2 ** (e + 1 - bits);
  let r = Math.round(x / q) * q;
  if (dtype === 'F16' && Math.abs(r) < 2 ** -14) r = 0;
  return Math.fround(r);
}

module.exports = { encode, decode, safetensorsHeader, writeSafetensors, readSafetensors, rng, roundToGrid, f16Value, bf16Value, SIZES };
