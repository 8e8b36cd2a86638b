// Speed of the page's cryptography in Node: node web/bench.mjs
// Hashes 50 MiB in 1 MiB pieces (as a File is read), and verifies openssl-made
// signatures for about two seconds per suite. Needs the openssl command line.
import { SM3 } from './js/sm3.js';
import { SHA256 } from './js/sha256.js';
import { sm2Verify, GOVCHAIN_SM2_ID } from './js/sm2.js';
import { p256Verify, p256VerifyJs, sha256 } from './js/p256.js';
import {
  P256_GENPKEY, SM2_GENPKEY, opensslKey, opensslP256Sign, opensslSm2Sign, randomBytes, tempDir,
} from './test-util/openssl.mjs';

const MiB = 1 << 20;
const data = randomBytes(50 * MiB, 1);

function hashRate(name, make) {
  let best = 0;
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    const h = make();
    for (let off = 0; off < data.length; off += MiB) h.update(data.subarray(off, off + MiB));
    h.digest();
    best = Math.max(best, 50 / ((performance.now() - start) / 1000));
  }
  console.log(`${name.padEnd(34)} ${best.toFixed(0).padStart(6)} MB/s (50 MiB in 1 MiB pieces, best of 3)`);
}

async function verifyRate(name, verify) {
  for (let i = 0; i < 20; i++) await verify(); // warm up
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < 2000) {
    if (!(await verify())) throw new Error(`${name}: a good signature failed`);
    count++;
  }
  const seconds = (performance.now() - start) / 1000;
  console.log(`${name.padEnd(34)} ${(count / seconds).toFixed(0).padStart(6)} verifications/s ` +
    `(${((seconds * 1000) / count).toFixed(2)} ms each)`);
}

console.log(`node ${process.version}`);
hashRate('SM3 (sm3.js)', () => new SM3());
hashRate('SHA-256 fallback (sha256.js)', () => new SHA256());
{
  const start = performance.now();
  await sha256(data);
  const rate = 50 / ((performance.now() - start) / 1000);
  console.log(`${'SHA-256 WebCrypto (p256.js)'.padEnd(34)} ${rate.toFixed(0).padStart(6)} MB/s (50 MiB at once)`);
}

const dir = tempDir();
const message = randomBytes(300, 2);
const sm2 = opensslKey(dir, 'sm2', SM2_GENPKEY);
const sm2Sig = opensslSm2Sign(dir, sm2.keyPath, message, GOVCHAIN_SM2_ID);
await verifyRate('SM2 (sm2.js), 300-byte message', () => sm2Verify(sm2.publicKey, message, sm2Sig));
const p256 = opensslKey(dir, 'p256', P256_GENPKEY);
const p256Sig = opensslP256Sign(dir, p256.keyPath, message);
await verifyRate('P-256 WebCrypto (p256.js)', () => p256Verify(p256.publicKey, message, p256Sig));
await verifyRate('P-256 fallback (p256.js)', () => p256VerifyJs(p256.publicKey, message, p256Sig));
