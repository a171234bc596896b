// CRC-32 (the zip/PNG polynomial), slice-by-16: about 1 GB/s in V8, so checksumming the
// merged model as it is written costs little next to the OPFS write itself.
const T = new Int32Array(256 * 16);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  T[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = T[n];
  for (let s = 1; s < 16; s++) {
    c = T[c & 255] ^ (c >>> 8);
    T[s * 256 + n] = c;
  }
}

// crc32(bytes) starts a checksum; crc32(bytes, previous) continues one.
function crc32(b, previous = 0) {
  let crc = ~previous;
  const n = b.length;
  const end = n - (n % 16);
  let i = 0;
  for (; i < end; i += 16) {
    const a = (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) ^ crc;
    crc = T[3840 + (a & 255)] ^ T[3584 + ((a >>> 8) & 255)] ^ T[3328 + ((a >>> 16) & 255)] ^ T[3072 + (a >>> 24)] ^
      T[2816 + b[i + 4]] ^ T[2560 + b[i + 5]] ^ T[2304 + b[i + 6]] ^ T[2048 + b[i + 7]] ^
      T[1792 + b[i + 8]] ^ T[1536 + b[i + 9]] ^ T[1280 + b[i + 10]] ^ T[1024 + b[i + 11]] ^
      T[768 + b[i + 12]] ^ T[512 + b[i + 13]] ^ T[256 + b[i + 14]] ^ T[b[i + 15]];
  }
  for (; i < n; i++) crc = T[(crc ^ b[i]) & 255] ^ (crc >>> 8);
  return ~crc >>> 0;
}

export { crc32 };
