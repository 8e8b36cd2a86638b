// ECDSA P-256 with SHA-256 (FIPS 186-4) verification and SHA-256 (FIPS 180-4), through
// the browser's WebCrypto (crypto.subtle).
//
//   import { sha256, p256PublicKeyValid, p256Verify } from './p256.js';
//   await sha256(bytes)                                -> Uint8Array(32)
//   await p256PublicKeyValid(publicKey)                -> boolean
//   await p256Verify(publicKey, message, signature)    -> boolean
//
// publicKey: 65 bytes 04 || x || y. signature: 64 bytes r || s (big-endian, the IEEE
// P1363 form WebCrypto uses). message: the signed bytes; WebCrypto hashes them with
// SHA-256. As in govchain (docs/crypto.md), r and s must lie in [1, n-1] and no low-s
// rule is applied. Malformed input makes p256Verify return false rather than throw.
//
// Browsers only offer crypto.subtle in a secure context (https://, or http:// on
// localhost / 127.0.0.1); elsewhere these functions throw an Error saying so.

const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' };
const VERIFY = { name: 'ECDSA', hash: 'SHA-256' };

function subtle() {
  const s = globalThis.crypto && globalThis.crypto.subtle;
  if (!s) {
    throw new Error('WebCrypto (crypto.subtle) is not available: the page must be opened ' +
      'over https:// or from localhost');
  }
  return s;
}

function toBytes(data, what) {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError(`p256: ${what} must be a Uint8Array`);
}

export async function sha256(data) {
  return new Uint8Array(await subtle().digest('SHA-256', toBytes(data, 'data')));
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
async function importKey(publicKey) {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 65 || publicKey[0] !== 0x04) {
    return null;
  }
  const id = hex(publicKey);
  if (keyCache.has(id)) return keyCache.get(id);
  const s = subtle();
  let key = null;
  try {
    key = await s.importKey('raw', publicKey.slice(), ALGORITHM, false, ['verify']);
  } catch {
    key = null; // DataError: not a point of the curve
  }
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value);
  keyCache.set(id, key);
  return key;
}

export async function p256PublicKeyValid(publicKey) {
  return (await importKey(publicKey)) !== null;
}

function scalarInRange(bytes) {
  let x = 0n;
  for (const b of bytes) x = (x << 8n) | BigInt(b);
  return x >= 1n && x < P256_N;
}

export async function p256Verify(publicKey, message, signature) {
  const msg = toBytes(message, 'message');
  if (!(signature instanceof Uint8Array) || signature.length !== 64 ||
      !scalarInRange(signature.subarray(0, 32)) || !scalarInRange(signature.subarray(32))) {
    return false;
  }
  const key = await importKey(publicKey);
  if (key === null) return false;
  try {
    return await subtle().verify(VERIFY, key, signature, msg);
  } catch {
    return false;
  }
}
