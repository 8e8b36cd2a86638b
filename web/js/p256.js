// ECDSA P-256 with SHA-256 (FIPS 186-4) verification and SHA-256 (FIPS 180-4), through
// the browser's WebCrypto (crypto.subtle), with a plain-JavaScript fallback.
//
//   import { sha256, sha256Blob, p256PublicKeyValid, p256Verify } from './p256.js';
//   await sha256(bytes)                                -> Uint8Array(32)
//   await sha256Blob(blob, onProgress)                 -> Uint8Array(32)
//   await p256PublicKeyValid(publicKey)                -> boolean
//   await p256Verify(publicKey, message, signature)    -> boolean
//   webCryptoAvailable()                               -> boolean
//   p256VerifyJs(publicKey, message, signature)        -> boolean (the fallback, sync)
//   p256PublicKeyValidJs(publicKey)                    -> boolean (the fallback, sync)
//
// publicKey: 65 bytes 04 || x || y. signature: 64 bytes r || s (big-endian, the IEEE
// P1363 form WebCrypto uses). message: the signed bytes, hashed here with SHA-256. As
// in govchain (docs/crypto.md), r and s must lie in [1, n-1] and no low-s rule is
// applied. Malformed input makes the verify functions return false rather than throw.
//
// Browsers only offer crypto.subtle in a secure context (https://, or http:// on
// localhost / 127.0.0.1). A page a node serves over plain http:// to another machine
// has none, so then the same checks run in JavaScript: SHA-256 from sha256.js and the
// curve arithmetic of ec.js (BigInt; about a millisecond or two per verification).

import { SHA256, sha256js } from './sha256.js';
import { hashBlobStream } from './md.js';
import { bytesToBigInt, makeCurve } from './ec.js';

// NIST P-256 (FIPS 186-4 D.1.2.3, SEC 2 secp256r1).
export const P256_CURVE = Object.freeze({
  p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
  a: 0xffffffff00000001000000000000000000000000fffffffffffffffffffffffcn,
  b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  gy: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
});

const P256_N = P256_CURVE.n;
const curve = makeCurve(P256_CURVE);
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' };
const VERIFY = { name: 'ECDSA', hash: 'SHA-256' };

function subtleOrNull() {
  const c = globalThis.crypto;
  return (c && c.subtle) || null;
}

export function webCryptoAvailable() {
  return subtleOrNull() !== null;
}

function toBytes(data, what) {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError(`p256: ${what} must be a Uint8Array`);
}

export async function sha256(data) {
  const bytes = toBytes(data, 'data');
  const subtle = subtleOrNull();
  if (subtle === null) return sha256js(bytes);
  return new Uint8Array(await subtle.digest('SHA-256', bytes));
}

// SHA-256 of a Blob or File. WebCrypto cannot hash in pieces, so with it the file is read
// whole; the fallback streams it.
export async function sha256Blob(blob, onProgress) {
  if (subtleOrNull() !== null) {
    const bytes = new Uint8Array(await blob.arrayBuffer());
    const digest = await sha256(bytes);
    if (onProgress) onProgress(bytes.length);
    return digest;
  }
  return hashBlobStream(new SHA256(), blob, onProgress);
}

// Imported keys, by their hex, so a page checking many signatures of a few validators
// imports each key once. Bounded; the oldest entry goes first.
const keyCache = new Map();
const KEY_CACHE_MAX = 64;

function hex(bytes) {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

// The CryptoKey for a public key, or null when it is not a valid P-256 point
// (WebCrypto checks that the point is on the curve).
async function importKey(subtle, publicKey) {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 65 || publicKey[0] !== 0x04) {
    return null;
  }
  const id = hex(publicKey);
  if (keyCache.has(id)) return keyCache.get(id);
  let key = null;
  try {
    key = await subtle.importKey('raw', publicKey.slice(), ALGORITHM, false, ['verify']);
  } catch {
    key = null; // DataError: not a point of the curve
  }
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value);
  keyCache.set(id, key);
  return key;
}

export async function p256PublicKeyValid(publicKey) {
  const subtle = subtleOrNull();
  if (subtle === null) return p256PublicKeyValidJs(publicKey);
  return (await importKey(subtle, publicKey)) !== null;
}

function scalarInRange(bytes) {
  const x = bytesToBigInt(bytes);
  return x >= 1n && x < P256_N;
}

function signatureShapeValid(signature) {
  return signature instanceof Uint8Array && signature.length === 64 &&
    scalarInRange(signature.subarray(0, 32)) && scalarInRange(signature.subarray(32));
}

export async function p256Verify(publicKey, message, signature) {
  const msg = toBytes(message, 'message');
  if (!signatureShapeValid(signature)) return false;
  const subtle = subtleOrNull();
  if (subtle === null) return p256VerifyJs(publicKey, msg, signature);
  const key = await importKey(subtle, publicKey);
  if (key === null) return false;
  try {
    return await subtle.verify(VERIFY, key, signature, msg);
  } catch {
    return false;
  }
}

// The fallback, in JavaScript --------------------------------------------------------

function parsePublicKey(publicKey) {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 65 || publicKey[0] !== 0x04) {
    return null;
  }
  const x = bytesToBigInt(publicKey.subarray(1, 33));
  const y = bytesToBigInt(publicKey.subarray(33, 65));
  // The cofactor is 1: a point on the curve is in the group of order n.
  return curve.onCurve(x, y) ? { x, y } : null;
}

export function p256PublicKeyValidJs(publicKey) {
  return parsePublicKey(publicKey) !== null;
}

// ECDSA verification (FIPS 186-4 §6.4.2, SEC 1 §4.1.4) of signature over message.
export function p256VerifyJs(publicKey, message, signature) {
  const msg = toBytes(message, 'message');
  const Q = parsePublicKey(publicKey);
  if (Q === null || !signatureShapeValid(signature)) return false;
  const n = P256_N;
  const r = bytesToBigInt(signature.subarray(0, 32));
  const s = bytesToBigInt(signature.subarray(32, 64));
  const e = bytesToBigInt(sha256js(msg)); // 256 bits: the order's length, so no truncation
  const w = curve.invert(s, n);
  const point = curve.mulAdd((e * w) % n, (r * w) % n, Q.x, Q.y);
  if (point === null) return false;
  return point.x % n === r;
}
