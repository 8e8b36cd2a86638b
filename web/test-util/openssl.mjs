// Helpers for web/test: the reference answers come from the openssl command line and
// from govchain's own binary, never from the modules under test. (Kept outside
// web/test/ because node --test runs every .mjs file in a folder named test.)

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

// A fresh temporary folder, removed when the process exits.
export function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'govchain-web-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function openssl(args, options = {}) {
  return execFileSync('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
}

export const hex = (bytes) => Buffer.from(bytes).toString('hex');
export const unhex = (text) => new Uint8Array(Buffer.from(text, 'hex'));

export function randomBytes(length, seed) {
  // Deterministic per seed (xorshift32), so a failure can be reproduced.
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

// DER SEQUENCE { INTEGER r, INTEGER s } -> 64 bytes r || s.
export function derToRaw(der) {
  let i = 0;
  const readLength = () => {
    let len = der[i++];
    if (len & 0x80) {
      const count = len & 0x7f;
      len = 0;
      for (let k = 0; k < count; k++) len = (len << 8) | der[i++];
    }
    return len;
  };
  if (der[i++] !== 0x30) throw new Error('DER: not a SEQUENCE');
  const seqLen = readLength();
  if (i + seqLen !== der.length) throw new Error('DER: bad SEQUENCE length');
  const out = new Uint8Array(64);
  for (let k = 0; k < 2; k++) {
    if (der[i++] !== 0x02) throw new Error('DER: not an INTEGER');
    const len = readLength();
    let v = der.subarray(i, i + len);
    i += len;
    while (v.length > 0 && v[0] === 0) v = v.subarray(1);
    if (v.length > 32) throw new Error('DER: integer too long');
    out.set(v, 32 * k + 32 - v.length);
  }
  return out;
}

// A key made by openssl genpkey: its PEM path and its 65-byte public point, taken
// from the SubjectPublicKeyInfo DER that openssl writes (the BIT STRING at its end).
export function opensslKey(dir, name, genpkeyArgs) {
  const keyPath = join(dir, `${name}.pem`);
  const pubPath = join(dir, `${name}.pub.der`);
  openssl(['genpkey', ...genpkeyArgs, '-out', keyPath]);
  openssl(['pkey', '-in', keyPath, '-pubout', '-outform', 'DER', '-out', pubPath]);
  const spki = readFileSync(pubPath);
  const point = new Uint8Array(spki.subarray(spki.length - 65));
  if (point[0] !== 0x04 || spki[spki.length - 66] !== 0x00) throw new Error('unexpected SPKI');
  return { keyPath, publicKey: point };
}

export const SM2_GENPKEY = ['-algorithm', 'SM2'];
export const P256_GENPKEY = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];

let counter = 0;

// SM2 signature (r || s) by openssl pkeyutl over message, exactly as
// tests/unit/test_crypto.c has openssl sign: -rawin -digest sm3 -pkeyopt distid:ID.
// distid null: no -pkeyopt at all (OpenSSL's default, empty id).
export function opensslSm2Sign(dir, keyPath, message, distid) {
  const n = counter++;
  const msgPath = join(dir, `sm2-msg-${n}`);
  const sigPath = join(dir, `sm2-sig-${n}.der`);
  writeFileSync(msgPath, message);
  const idArgs = distid === null ? [] : ['-pkeyopt', `distid:${distid}`];
  openssl(['pkeyutl', '-sign', '-inkey', keyPath, '-in', msgPath, '-rawin', '-digest', 'sm3',
    ...idArgs, '-out', sigPath]);
  return derToRaw(readFileSync(sigPath));
}

// ECDSA P-256 signature (r || s) by openssl dgst -sha256 -sign over message.
export function opensslP256Sign(dir, keyPath, message) {
  const n = counter++;
  const msgPath = join(dir, `p256-msg-${n}`);
  const sigPath = join(dir, `p256-sig-${n}.der`);
  writeFileSync(msgPath, message);
  openssl(['dgst', '-sha256', '-sign', keyPath, '-out', sigPath, msgPath]);
  return derToRaw(readFileSync(sigPath));
}

// openssl dgst -<digest> of each of many inputs, in one openssl process.
export function opensslDigests(dir, digest, inputs) {
  const paths = inputs.map((bytes, i) => {
    const path = join(dir, `${digest}-in-${counter++}-${i}`);
    writeFileSync(path, bytes);
    return path;
  });
  const out = openssl(['dgst', `-${digest}`, '-r', ...paths], { maxBuffer: 1 << 24 }).toString();
  const lines = out.trim().split('\n');
  if (lines.length !== inputs.length) throw new Error('openssl dgst: unexpected output');
  return lines.map((line, i) => {
    const [digestHex, name] = line.split(' ');
    if (name !== `*${paths[i]}`) throw new Error('openssl dgst: output out of order');
    return digestHex;
  });
}

// The govchain binary: $GOVCHAIN_BIN, else build/ of this repository. Its absence is a
// failure, not a skip: a test that cannot run has not passed.
export function govchainBinary() {
  const candidates = [process.env.GOVCHAIN_BIN, join(repoRoot, 'build', 'govchain')];
  const found = candidates.find((path) => path && existsSync(path));
  if (!found) throw new Error('no govchain binary: build it (make build) or set GOVCHAIN_BIN');
  return found;
}

export function govchain(binary, args, options = {}) {
  return execFileSync(binary, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options }).toString();
}

// A bigint as 32 big-endian bytes (for building out-of-range signatures in tests).
export function be32(x) {
  return unhex(x.toString(16).padStart(64, '0'));
}

export function bigOf(bytes) {
  return BigInt('0x' + (hex(bytes) || '0'));
}
