// Elliptic-curve arithmetic for signature verification: short Weierstrass curves
// y^2 = x^3 + a x + b over a prime field with a = -3 (mod p), which holds for both of
// govchain's curves (SM2's recommended curve and NIST P-256). BigInt, Jacobian
// coordinates, and Shamir's trick with 4-bit windows for u1 G + u2 Q.
//
// Not constant-time: it is meant for public data only (verification), never for
// private keys.
//
// Used by sm2.js; not a public API of its own.

export function bytesToBigInt(bytes) {
  let hex = '0x';
  for (let i = 0; i < bytes.length; i++) hex += HEX[bytes[i]];
  return bytes.length === 0 ? 0n : BigInt(hex);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function bigIntToBytes(x, length) {
  const hex = x.toString(16).padStart(2 * length, '0');
  if (hex.length > 2 * length) throw new RangeError('integer too large');
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
  return out;
}

// A curve from its parameters (BigInts p, a, b, n, gx, gy; a must be p - 3).
export function makeCurve({ p, a, b, n, gx, gy }) {
  if ((a + 3n) % p !== 0n) throw new Error('ec: only curves with a = -3 are supported');

  const mod = (x) => {
    const r = x % p;
    return r < 0n ? r + p : r;
  };

  // Inverse modulo m by the extended Euclidean algorithm (x coprime to m, 0 < x < m).
  function invert(x, m) {
    let a0 = ((x % m) + m) % m, b0 = m, u = 1n, v = 0n;
    while (a0 !== 0n) {
      const q = b0 / a0;
      [a0, b0] = [b0 - q * a0, a0];
      [u, v] = [v - q * u, u];
    }
    if (b0 !== 1n) throw new RangeError('ec: not invertible');
    return ((v % m) + m) % m;
  }

  function onCurve(x, y) {
    if (x < 0n || x >= p || y < 0n || y >= p) return false;
    return mod(y * y) === mod(mod(x * x) * x + a * x + b);
  }

  const INFINITY = [0n, 1n, 0n];

  // 2 P, Jacobian, a = -3 ("dbl-2001-b").
  function double([x1, y1, z1]) {
    if (z1 === 0n || y1 === 0n) return INFINITY;
    const delta = mod(z1 * z1);
    const gamma = mod(y1 * y1);
    const beta = mod(x1 * gamma);
    const alpha = mod(3n * (x1 - delta) * (x1 + delta));
    const x3 = mod(alpha * alpha - 8n * beta);
    const z3 = mod((y1 + z1) * (y1 + z1) - gamma - delta);
    const y3 = mod(alpha * (4n * beta - x3) - 8n * gamma * gamma);
    return [x3, y3, z3];
  }

  // P + Q, Jacobian ("add-2007-bl"), with the special cases handled.
  function add(P, Q) {
    const [x1, y1, z1] = P;
    const [x2, y2, z2] = Q;
    if (z1 === 0n) return Q;
    if (z2 === 0n) return P;
    const z1z1 = mod(z1 * z1);
    const z2z2 = mod(z2 * z2);
    const u1 = mod(x1 * z2z2);
    const u2 = mod(x2 * z1z1);
    const s1 = mod(y1 * z2 * z2z2);
    const s2 = mod(y2 * z1 * z1z1);
    const h = mod(u2 - u1);
    const r = mod(2n * (s2 - s1));
    if (h === 0n) return r === 0n ? double(P) : INFINITY;
    const i = mod(4n * h * h);
    const j = mod(h * i);
    const v = mod(u1 * i);
    const x3 = mod(r * r - j - 2n * v);
    const y3 = mod(r * (v - x3) - 2n * s1 * j);
    const z3 = mod(((z1 + z2) * (z1 + z2) - z1z1 - z2z2) * h);
    return [x3, y3, z3];
  }

  // [0]P .. [15]P.
  function table(P) {
    const t = [INFINITY, P];
    for (let i = 2; i < 16; i++) t.push(i % 2 === 0 ? double(t[i / 2]) : add(t[i - 1], P));
    return t;
  }

  let gTable = null; // [i]G, built on first use

  // Affine x (and y) of u1 G + u2 Q, Q given affine; null for the point at infinity.
  function mulAdd(u1, u2, qx, qy) {
    if (gTable === null) gTable = table([gx, gy, 1n]);
    const qTable = table([qx, qy, 1n]);
    let R = INFINITY;
    for (let shift = 252n; shift >= 0n; shift -= 4n) {
      if (R[2] !== 0n) R = double(double(double(double(R))));
      const d1 = Number((u1 >> shift) & 15n);
      const d2 = Number((u2 >> shift) & 15n);
      if (d1 !== 0) R = add(R, gTable[d1]);
      if (d2 !== 0) R = add(R, qTable[d2]);
    }
    if (R[2] === 0n) return null;
    const zi = invert(R[2], p);
    const zi2 = mod(zi * zi);
    return { x: mod(R[0] * zi2), y: mod(R[1] * zi2 * zi) };
  }

  // Scalar multiple k P of an affine point (for tests and checks), affine or null.
  function multiply(k, px, py) {
    return mulAdd(0n, k, px, py);
  }

  return { p, a, b, n, gx, gy, mod, invert, onCurve, mulAdd, multiply };
}
