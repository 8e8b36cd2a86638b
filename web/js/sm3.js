// SM3 cryptographic hash (GB/T 32905-2016), written from the standard.
//
//   import { sm3, SM3 } from './sm3.js';
//   sm3(bytes)                                   -> Uint8Array(32)
//   new SM3().update(a).update(b).digest()       -> Uint8Array(32)
//
// Input is a Uint8Array (any ArrayBuffer view or ArrayBuffer is accepted too). Whole
// 64-byte blocks are compressed straight from the caller's buffer; only a partial
// block is copied. All arithmetic is on 32-bit integers, so a large file can be hashed
// chunk by chunk (e.g. from Blob.stream()) at tens to hundreds of MB/s.

import { MDHash, hashBlobStream } from './md.js';

const IV = [
  0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600,
  0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e,
];

// T_j <<< (j mod 32), precomputed: T_j = 0x79cc4519 for j < 16, 0x7a879d8a after.
const TJ = new Int32Array(64);
for (let j = 0; j < 64; j++) {
  const t = j < 16 ? 0x79cc4519 : 0x7a879d8a;
  const k = j % 32;
  TJ[j] = k === 0 ? t : (t << k) | (t >>> (32 - k));
}

const W = new Int32Array(68); // message expansion W_0..W_67 (shared: JS is single-threaded)

// Compresses the 64-byte blocks of buf from off to off + len (len a multiple of 64)
// into the state v (Int32Array(8)).
function compress(v, buf, off, len) {
  const w = W;
  let a0 = v[0], b0 = v[1], c0 = v[2], d0 = v[3], e0 = v[4], f0 = v[5], g0 = v[6], h0 = v[7];
  for (const end = off + len; off < end; off += 64) {
    for (let j = 0, p = off; j < 16; j++, p += 4) {
      w[j] = (buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3];
    }
    for (let j = 16; j < 68; j++) {
      let x = w[j - 16] ^ w[j - 9];
      const y = w[j - 3];
      x ^= (y << 15) | (y >>> 17);
      x = x ^ ((x << 15) | (x >>> 17)) ^ ((x << 23) | (x >>> 9)); // P1
      const z = w[j - 13];
      w[j] = x ^ ((z << 7) | (z >>> 25)) ^ w[j - 6];
    }
    let a = a0, b = b0, c = c0, d = d0, e = e0, f = f0, g = g0, h = h0;
    for (let j = 0; j < 16; j++) {
      const a12 = (a << 12) | (a >>> 20);
      let ss1 = (a12 + e + TJ[j]) | 0;
      ss1 = (ss1 << 7) | (ss1 >>> 25);
      const ss2 = ss1 ^ a12;
      const tt1 = ((a ^ b ^ c) + d + ss2 + (w[j] ^ w[j + 4])) | 0;
      const tt2 = ((e ^ f ^ g) + h + ss1 + w[j]) | 0;
      d = c;
      c = (b << 9) | (b >>> 23);
      b = a;
      a = tt1;
      h = g;
      g = (f << 19) | (f >>> 13);
      f = e;
      e = tt2 ^ ((tt2 << 9) | (tt2 >>> 23)) ^ ((tt2 << 17) | (tt2 >>> 15)); // P0
    }
    for (let j = 16; j < 64; j++) {
      const a12 = (a << 12) | (a >>> 20);
      let ss1 = (a12 + e + TJ[j]) | 0;
      ss1 = (ss1 << 7) | (ss1 >>> 25);
      const ss2 = ss1 ^ a12;
      const tt1 = (((a & b) | (a & c) | (b & c)) + d + ss2 + (w[j] ^ w[j + 4])) | 0;
      const tt2 = (((e & f) | (~e & g)) + h + ss1 + w[j]) | 0;
      d = c;
      c = (b << 9) | (b >>> 23);
      b = a;
      a = tt1;
      h = g;
      g = (f << 19) | (f >>> 13);
      f = e;
      e = tt2 ^ ((tt2 << 9) | (tt2 >>> 23)) ^ ((tt2 << 17) | (tt2 >>> 15)); // P0
    }
    a0 ^= a; b0 ^= b; c0 ^= c; d0 ^= d; e0 ^= e; f0 ^= f; g0 ^= g; h0 ^= h;
  }
  v[0] = a0; v[1] = b0; v[2] = c0; v[3] = d0; v[4] = e0; v[5] = f0; v[6] = g0; v[7] = h0;
}

export class SM3 extends MDHash {
  constructor() {
    super('sm3', IV, compress);
  }
}

// One-shot SM3 of bytes (or of several byte arrays, concatenated).
export function sm3(...parts) {
  const h = new SM3();
  for (const part of parts) h.update(part);
  return h.digest();
}

// SM3 of a Blob or File, read as a stream (the file is never held whole in memory).
// onProgress(bytesDone), if given, is called after each chunk.
export function sm3Blob(blob, onProgress) {
  return hashBlobStream(new SM3(), blob, onProgress);
}
