// govchain's signature suites for the verification page: one hash and one verify per
// suite, with govchain's domain-separated signing preimage (docs/crypto.md):
//
//   tag || 0x00 || chain_id || message
//
//   import { suite } from './suite.js';
//   const s = suite('sm2-sm3');                  // or 'p256-sha256'
//   await s.hash(bytes)                          -> Uint8Array(32)
//   await s.hashBlob(file)                       -> Uint8Array(32)
//   await s.verify(publicKey, tag, chainId, message, signature)  -> boolean
//   s.publicKeyValid(publicKey)                  -> Promise<boolean>
//
// publicKey 65 bytes (04 || x || y), chainId 32 bytes (the genesis hash), message any
// bytes, signature 64 bytes r || s. tag is a string of printable ASCII (0x20-0x7e), at
// least one character, e.g. 'govchain/tx/1'; any other tag makes verify return false,
// as gov_verify does.
//
// p256-sha256: ECDSA P-256 over SHA-256(preimage), through WebCrypto or, where the page
// has none, in JavaScript (p256.js).
// sm2-sm3: SM2 over e = SM3(Z || preimage), Z with the id '1234567812345678' (sm2.js).

import { sm3, sm3Blob } from './sm3.js';
import { sm2PublicKeyValid, sm2Verify, GOVCHAIN_SM2_ID } from './sm2.js';
import { p256PublicKeyValid, p256Verify, sha256, sha256Blob } from './p256.js';

export const SUITES = Object.freeze(['p256-sha256', 'sm2-sm3']);

// Whether tag is a valid domain tag: printable ASCII, at least one character.
export function tagValid(tag) {
  if (typeof tag !== 'string' || tag.length === 0) return false;
  for (let i = 0; i < tag.length; i++) {
    const c = tag.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// tag || 0x00 || chainId || message. Throws on an invalid tag or a chain id that is
// not 32 bytes.
export function preimage(tag, chainId, message) {
  if (!tagValid(tag)) throw new TypeError('govchain: a tag is printable ASCII, at least one character');
  if (!(chainId instanceof Uint8Array) || chainId.length !== 32) {
    throw new TypeError('govchain: a chain id is 32 bytes');
  }
  if (!(message instanceof Uint8Array)) throw new TypeError('govchain: message must be a Uint8Array');
  const out = new Uint8Array(tag.length + 1 + 32 + message.length);
  for (let i = 0; i < tag.length; i++) out[i] = tag.charCodeAt(i);
  out[tag.length] = 0x00;
  out.set(chainId, tag.length + 1);
  out.set(message, tag.length + 33);
  return out;
}

function argumentsValid(tag, chainId, message) {
  return tagValid(tag) && chainId instanceof Uint8Array && chainId.length === 32 &&
    message instanceof Uint8Array;
}

const sm2Suite = Object.freeze({
  name: 'sm2-sm3',
  async hash(bytes) {
    return sm3(bytes);
  },
  async hashBlob(blob, onProgress) {
    return sm3Blob(blob, onProgress);
  },
  async publicKeyValid(publicKey) {
    return sm2PublicKeyValid(publicKey);
  },
  async verify(publicKey, tag, chainId, message, signature) {
    if (!argumentsValid(tag, chainId, message)) return false;
    return sm2Verify(publicKey, preimage(tag, chainId, message), signature, { id: GOVCHAIN_SM2_ID });
  },
});

const p256Suite = Object.freeze({
  name: 'p256-sha256',
  async hash(bytes) {
    return sha256(bytes);
  },
  // With WebCrypto the file is read whole (it cannot hash in pieces).
  async hashBlob(blob, onProgress) {
    return sha256Blob(blob, onProgress);
  },
  async publicKeyValid(publicKey) {
    return p256PublicKeyValid(publicKey);
  },
  async verify(publicKey, tag, chainId, message, signature) {
    if (!argumentsValid(tag, chainId, message)) return false;
    return p256Verify(publicKey, preimage(tag, chainId, message), signature);
  },
});

// The suite of a chain, by the name its genesis gives.
export function suite(name) {
  if (name === 'sm2-sm3') return sm2Suite;
  if (name === 'p256-sha256') return p256Suite;
  throw new RangeError(`govchain: unknown suite '${name}' (p256-sha256 or sm2-sm3)`);
}

// Hex helpers for JSON documents (receipts, genesis): lowercase out, either case in.
export function bytesToHex(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  return s;
}

export function hexToBytes(hex) {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new TypeError('govchain: not an even number of hex digits');
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
  return out;
}
