'use strict';
// Reads a zip in the tests, independently of web/zip_container.js: finds the central
// directory through the (zip64) end records, checks every entry's local header and CRC
// (zlib's), and returns the files. Stored entries only, as the page writes.
const zlib = require('zlib');

function readZip(buf) {
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('zip: no end of central directory');
  let count = buf.readUInt16LE(eocd + 10);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  if (cdOffset === 0xffffffff || count === 0xffff) {
    const locator = eocd - 20;
    if (buf.readUInt32LE(locator) !== 0x07064b50) throw new Error('zip: zip64 locator missing');
    const z64 = Number(buf.readBigUInt64LE(locator + 8));
    if (buf.readUInt32LE(z64) !== 0x06064b50) throw new Error('zip: zip64 end record missing');
    count = Number(buf.readBigUInt64LE(z64 + 32));
    cdOffset = Number(buf.readBigUInt64LE(z64 + 48));
  }
  const files = new Map();
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`zip: central header ${i} missing`);
    if (buf.readUInt16LE(p + 10) !== 0) throw new Error('zip: compressed entry');
    const crc = buf.readUInt32LE(p + 16);
    let size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    for (let x = p + 46 + nameLen; x < p + 46 + nameLen + extraLen;) {  // zip64 values, in order, for each 0xffffffff
      const id = buf.readUInt16LE(x);
      const len = buf.readUInt16LE(x + 2);
      if (id === 1) {
        let at = x + 4;
        if (size === 0xffffffff) { size = Number(buf.readBigUInt64LE(at)); at += 8; }
        if (buf.readUInt32LE(p + 20) === 0xffffffff) at += 8;
        if (local === 0xffffffff) local = Number(buf.readBigUInt64LE(at));
      }
      x += 4 + len;
    }
    if (buf.readUInt32LE(local) !== 0x04034b50) throw new Error(`zip: ${name}: local header missing`);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + size);
    if (zlib.crc32(data) !== crc) throw new Error(`zip: ${name}: CRC mismatch`);
    files.set(name, data);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return files;
}

module.exports = { readZip };
