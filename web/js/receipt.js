// Verifies a govchain receipt against a genesis, in the browser: the algorithm of
// docs/receipt.md, step by step. `suite` is the chain's crypto ({ hash(bytes),
// verify(publicKey, tag, chainId, message, signature) }, both async: suite.js).
// Every failure throws a ReceiptError whose message says what did not hold.

import { decode, elementSpans, encodeArray, concat } from './msgpack.js';

export class ReceiptError extends Error {}

const FORMAT = 'govchain-receipt/1';
const STATUS = { 1: 'valid', 2: 'revoked', 3: 'superseded' };
const ROLE_ISSUER = 1;

export function hexToBytes(hex, expectedLength) {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new ReceiptError('a value is not hex');
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new ReceiptError(`a value is not ${expectedLength} bytes`);
  }
  return out;
}

export function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function check(condition, message) {
  if (!condition) throw new ReceiptError(message);
}

// Shapes, as govchain's C decoders require them: an unsigned integer (a BigInt above
// 2^53), and bin of an exact length.
const isUint = (v) => (Number.isInteger(v) && v >= 0) || typeof v === 'bigint';
const isBin = (v, len) => v instanceof Uint8Array && (len === undefined || v.length === len);

// The genesis, from its canonical encoding: what a verifier needs of it.
export async function readGenesis(suite, encoding) {
  const chainId = await suite.hash(encoding);
  const spans = elementSpans(encoding);
  const g = decode(encoding);
  check(Array.isArray(g) && g.length === 8, 'the genesis does not have the expected shape');
  const [, chainName, suiteCode, , , departments, docTypes, validators] = g;
  const validatorsBytes = encoding.subarray(spans[7][0], spans[7][1]);
  return {
    chainId,
    chainName,
    suite: suiteCode === 1 ? 'p256-sha256' : suiteCode === 2 ? 'sm2-sm3' : 'unknown',
    validatorsHash: await suite.hash(validatorsBytes),
    departments: departments.map(([id, name, roles, issues, keys]) => ({ id, name, roles, issues, keys })),
    docTypes: docTypes.map(([id, docClass, recognisers, required]) => ({ id, docClass, recognisers, required })),
    validators: validators.map(([department, key]) => ({ department, key })),
  };
}

function decodeHeader(bytes) {
  const h = decode(bytes);
  check(Array.isArray(h) && h.length === 11, 'a block header does not have 11 fields');
  const [version, chainId, height, prevHash, timeMs, proposer, txCount, txRoot, stateRoot,
    historyRoot, validatorsHash] = h;
  check([version, height, timeMs, proposer, txCount].every(isUint) &&
    [chainId, prevHash, txRoot, stateRoot, historyRoot, validatorsHash].every((b) => isBin(b, 32)),
    'a block header has a field of the wrong type');
  return { version, chainId, height, prevHash, timeMs, proposer, txCount, txRoot, stateRoot,
    historyRoot, validatorsHash };
}

function decodeCert(bytes) {
  const c = decode(bytes);
  check(Array.isArray(c) && c.length === 4, 'a commit certificate does not have 4 fields');
  const [view, height, digest, votes] = c;
  check(isUint(view) && isUint(height) && isBin(digest, 32) && Array.isArray(votes) &&
    votes.every((v) => Array.isArray(v) && v.length === 2 && isUint(v[0]) && isBin(v[1], 64)),
  'a commit certificate has a field of the wrong type');
  return { view, height, digest, votes };
}

function decodePosition(p) {
  check(Array.isArray(p) && p.length === 3 && isUint(p[0]) && isUint(p[1]) && isBin(p[2], 32),
    'a position does not have 3 fields of the right types');
  return { height: p[0], index: p[1], txId: p[2] };
}

function decodeState(bytes) {
  const s = decode(bytes);
  check(Array.isArray(s) && s.length === 14, 'the document state does not have 14 fields');
  const [version, docHash, issuer, docClass, docType, subjectRef, validFrom, validUntil,
    supersedes, issued, status, change, supersededBy, endorsements] = s;
  check(version === 1, 'unknown document state version');
  check(isBin(docHash, 32) && typeof issuer === 'string' && isUint(docClass) &&
    typeof docType === 'string' && isBin(subjectRef, 32) && isUint(validFrom) &&
    isUint(validUntil) && isUint(status) && Array.isArray(endorsements) &&
    endorsements.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string'),
  'the document state has a field of the wrong type');
  return {
    docHash, issuer, docClass, docType, subjectRef, validFrom, validUntil, supersedes,
    issued: decodePosition(issued), status: STATUS[status] || 'unknown', change,
    supersededBy,
    endorsements: endorsements.map(([department, at]) => ({ department, at: decodePosition(at) })),
  };
}

// Step 4: a header of this chain whose certificate a quorum of validators signed.
async function checkCertified(suite, genesis, headerBytes, certBytes, which) {
  const header = decodeHeader(headerBytes);
  const cert = decodeCert(certBytes);
  check(equal(header.chainId, genesis.chainId), `the ${which} block is of another chain`);
  check(equal(header.validatorsHash, genesis.validatorsHash),
    `the ${which} block names another validator set`);
  const digest = await suite.hash(headerBytes);
  check(cert.height === header.height && equal(cert.digest, digest),
    `the ${which} block's certificate is for another block`);
  const n = genesis.validators.length;
  const f = Math.floor((n - 1) / 3);
  const q = Math.floor((n + f + 2) / 2);
  check(cert.votes.length >= q, `the ${which} block's certificate has ${cert.votes.length} votes, a quorum is ${q}`);
  let previous = -1;
  for (const [validator, signature] of cert.votes) {
    check(Number.isInteger(validator) && validator > previous && validator < n,
      `the ${which} block's certificate has a vote from an unknown or repeated validator`);
    previous = validator;
    const vote = encodeArray([3, cert.view, cert.height, validator, cert.digest]);
    const ok = await suite.verify(genesis.validators[validator].key, 'govchain/commit/1',
      genesis.chainId, vote, signature);
    check(ok, `the ${which} block's certificate: validator ${validator}'s signature does not verify`);
  }
  return header;
}

function bit(key, i) {
  return (key[i >> 3] >> (7 - (i & 7))) & 1;
}

// Step 5: the sparse-Merkle fold.
async function foldState(suite, key, valueHash, proof, root) {
  const siblings = proof.siblings.map((h) => hexToBytes(h, 32));
  const leafKey = hexToBytes(proof.leaf_key, 32);
  const leafValue = hexToBytes(proof.leaf_value_hash, 32);
  const depth = siblings.length;
  let h;
  if (proof.kind === 1) {
    check(valueHash !== null && equal(leafKey, key) && equal(leafValue, valueHash),
      'the state proof is not for this document');
    h = await suite.hash(concat([Uint8Array.of(0), key, valueHash]));
  } else if (proof.kind === 2) {
    check(valueHash === null && !equal(leafKey, key), 'the proof of absence names this document');
    for (let i = 0; i < depth; i++) check(bit(leafKey, i) === bit(key, i), 'the proof of absence is off the path');
    h = await suite.hash(concat([Uint8Array.of(0), leafKey, leafValue]));
  } else if (proof.kind === 3) {
    check(valueHash === null && leafKey.every((b) => b === 0) && leafValue.every((b) => b === 0),
      'the proof of absence is malformed');
    h = new Uint8Array(32);
  } else {
    throw new ReceiptError('unknown proof kind');
  }
  for (let i = depth - 1; i >= 0; i--) {
    h = await suite.hash(bit(key, i) === 0 ? concat([Uint8Array.of(1), h, siblings[i]])
                                           : concat([Uint8Array.of(1), siblings[i], h]));
  }
  check(equal(h, root), 'the state proof does not lead to the certified state root');
}

// Step 7: RFC 6962 (RFC 9162 §2.1.3.2) inclusion of a leaf at index in a tree of size.
async function foldInclusion(suite, leafHash, index, size, path, root) {
  check(index < size, 'the transaction index is outside its block');
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of path) {
    check(sn !== 0, 'the transaction path is too long');
    if ((fn & 1) === 1 || fn === sn) {
      r = await suite.hash(concat([Uint8Array.of(1), p, r]));
      if ((fn & 1) === 0) {
        while ((fn & 1) === 0 && fn !== 0) { fn >>= 1; sn >>= 1; }
      }
    } else {
      r = await suite.hash(concat([Uint8Array.of(1), r, p]));
    }
    fn >>= 1;
    sn >>= 1;
  }
  check(sn === 0 && equal(r, root), "the transaction's path does not lead to its block's tx_root");
}

// Verifies receipt (parsed JSON) for docHash (bytes) against genesis (readGenesis).
// Returns what it proves: { found, height, timeMs, state?, issuer?, expired?, recognised? }.
export async function verifyReceipt(suite, genesis, receipt, docHash, nowMs) {
  const members = ['format', 'chain_id', 'suite', 'doc_hash', 'state', 'issue', 'display'];
  check(receipt && typeof receipt === 'object' && Object.keys(receipt).length === members.length &&
    members.every((m) => m in receipt), 'not a receipt');
  check(receipt.format === FORMAT, 'not a govchain receipt');
  check(receipt.suite === genesis.suite, "the receipt is not of this chain's suite");
  check(equal(hexToBytes(receipt.chain_id, 32), genesis.chainId), 'the receipt is of another chain');
  const key = hexToBytes(receipt.doc_hash, 32);
  check(equal(key, docHash), 'the receipt is for another document');

  const state = receipt.state;
  const stateHeader = await checkCertified(suite, genesis, hexToBytes(state.header),
    hexToBytes(state.commit_cert), 'newest');
  const found = state.document !== null;
  let doc = null;
  let valueHash = null;
  if (found) {
    const docBytes = hexToBytes(state.document);
    doc = decodeState(docBytes);
    check(equal(doc.docHash, key), 'the state is of another document');
    valueHash = await suite.hash(docBytes);
  }
  await foldState(suite, key, valueHash, state.proof, stateHeader.stateRoot);
  const result = { found, height: stateHeader.height, timeMs: stateHeader.timeMs };
  if (!found) {
    check(receipt.issue === null, 'a receipt of absence carries an issue');
    return result;
  }

  // Step 6: the issuing transaction.
  const issue = receipt.issue;
  const txBytes = hexToBytes(issue.tx);
  check(txBytes.length > 68 && txBytes[0] === 0x92 && txBytes[txBytes.length - 66] === 0xc4 &&
    txBytes[txBytes.length - 65] === 0x40, 'the issuing transaction is malformed');
  const bodyBytes = txBytes.subarray(1, txBytes.length - 66);
  const signature = txBytes.subarray(txBytes.length - 64);
  const body = decode(bodyBytes);
  check(Array.isArray(body) && body.length === 8, 'the issuing transaction body is malformed');
  const [, kind, txChain, department, keyIndex, , , payload] = body;
  check(kind === 1 && Array.isArray(payload) && payload.length === 8,
    'the transaction is not an ISSUE');
  const [issDoc, issClass, issType, issSubject, issFrom, issUntil] = payload;
  check(equal(issDoc, key), 'the transaction does not issue this document');
  check(equal(txChain, genesis.chainId), 'the issuing transaction is for another chain');
  const dept = genesis.departments.find((d) => d.id === department);
  check(dept !== undefined && keyIndex < dept.keys.length, 'the issuer or its key is not in genesis');
  check(await suite.verify(dept.keys[keyIndex], 'govchain/tx/1', genesis.chainId, bodyBytes, signature),
    "the issuer's signature does not verify");
  check((dept.roles & ROLE_ISSUER) !== 0 && dept.issues.includes(issType),
    `${department} may not issue ${issType}`);
  const txId = await suite.hash(bodyBytes);
  const issueHeaderBytes = hexToBytes(issue.header);
  const issueHeader = await checkCertified(suite, genesis, issueHeaderBytes,
    hexToBytes(issue.commit_cert), 'issuing');
  check(doc.issuer === department && doc.docType === issType && doc.docClass === issClass &&
    equal(doc.subjectRef, issSubject) && doc.validFrom === issFrom && doc.validUntil === issUntil &&
    equal(doc.issued.txId, txId) && doc.issued.height === issueHeader.height &&
    doc.issued.index === issue.index,
    "the document's state does not match its issuing transaction");
  check(issueHeader.height <= stateHeader.height, 'the issue is newer than the state');
  const leaf = await suite.hash(concat([Uint8Array.of(0), txId]));
  await foldInclusion(suite, leaf, issue.index, issueHeader.txCount,
    issue.path.map((h) => hexToBytes(h, 32)), issueHeader.txRoot);

  // Step 8: what it shows.
  const type = genesis.docTypes.find((t) => t.id === doc.docType);
  const recognising = doc.endorsements.filter((e) => type && type.recognisers.includes(e.department));
  result.state = doc;
  result.issuer = dept;
  result.expired = doc.validUntil !== 0 && nowMs >= doc.validUntil;
  result.notYetValid = nowMs < doc.validFrom;
  result.recognised = type !== undefined && recognising.length >= type.required;
  return result;
}
