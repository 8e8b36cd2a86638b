// The verification page: the citizen picks or drops a file; the page hashes it here,
// fetches the document's receipt from the node, checks it against the chain's genesis
// (js/receipt.js) and says plainly, in Chinese and English, what it proves.
//
// Trust: the genesis comes from the node as its canonical encoding, and the page hashes
// it. If the page's address names the chain (?chain=<64 hex>, as a department would
// print it on its documents), a genesis of any other hash is refused; otherwise the
// chain id is shown for the citizen to compare. Receipts are never trusted: every proof
// is checked here.

import { suite as suiteFor } from './js/suite.js';
import { readGenesis, verifyReceipt, hexToBytes, bytesToHex, ReceiptError } from './js/receipt.js';

const $ = (id) => document.getElementById(id);
let chain = null; // { genesis, suite }

const CLASS = { 1: ['证照', 'certificate'], 2: ['审批记录', 'approval record'] };

function text(zh, en) {
  const span = document.createElement('span');
  span.textContent = zh;
  const small = document.createElement('span');
  small.className = 'en';
  small.textContent = en;
  const wrap = document.createElement('span');
  wrap.append(span, small);
  return wrap;
}

function showProgress(zh, en) {
  const p = $('progress');
  p.hidden = false;
  p.replaceChildren(text(zh, en));
}

function formatTime(ms) {
  if (!ms) return '—';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function departmentName(id) {
  const d = chain.genesis.departments.find((x) => x.id === id);
  return d ? `${d.name} (${id})` : id;
}

function showResult(kind, zh, en, summaryZh, summaryEn, rows, proofLine) {
  $('progress').hidden = true;
  const result = $('result');
  result.hidden = false;
  const status = $('status');
  status.className = `status ${kind}`;
  status.dataset.state = kind;
  status.replaceChildren(text(zh, en));
  $('summary').replaceChildren(summaryZh ? text(summaryZh, summaryEn) : '');
  const details = $('details');
  details.replaceChildren();
  for (const [zhLabel, enLabel, value, testid] of rows) {
    const dt = document.createElement('dt');
    dt.append(text(zhLabel, enLabel));
    const dd = document.createElement('dd');
    dd.textContent = value;
    if (testid) dd.dataset.testid = testid;
    details.append(dt, dd);
  }
  $('proof').textContent = proofLine || '';
}

async function loadChain() {
  const response = await fetch('/v1/genesis', { cache: 'no-store' });
  if (!response.ok) throw new Error(`the node answered ${response.status}`);
  const body = await response.json();
  const suite = suiteFor(body.suite);
  const genesis = await readGenesis(suite, hexToBytes(body.encoding));
  const pinned = new URLSearchParams(location.search).get('chain');
  const id = bytesToHex(genesis.chainId);
  if (pinned && pinned.toLowerCase() !== id) {
    throw new ReceiptError('this node serves another chain than the one in the page address');
  }
  chain = { genesis, suite };
  $('chain').replaceChildren(text(
    `链：${genesis.chainName}，链标识 ${id}${pinned ? '（与地址中的一致）' : ''}`,
    `Chain: ${genesis.chainName}, chain id ${id}${pinned ? ' (matches the page address)' : ''}`));
}

async function verifyFile(file) {
  $('result').hidden = true;
  try {
    if (!chain) await loadChain();
    showProgress('正在计算文件哈希…', 'Hashing the file…');
    const docHash = await chain.suite.hashBlob(file);
    showProgress('正在获取回执…', 'Fetching the receipt…');
    const response = await fetch(`/v1/docs/${bytesToHex(docHash)}/receipt`, { cache: 'no-store' });
    if (!response.ok) {
      throw new Error(`the node answered ${response.status}`);
    }
    const receipt = await response.json();
    showProgress('正在核验证明…', 'Checking the proofs…');
    const r = await verifyReceipt(chain.suite, chain.genesis, receipt, docHash, Date.now());
    const proofLine = `区块 ${r.height}（${formatTime(r.timeMs)}）· block ${r.height}; ` +
      `文件哈希 file hash ${bytesToHex(docHash)}`;
    if (!r.found) {
      showResult('none', '未找到', 'Not found',
        '此文件从未在本链上签发。', 'This file was never issued on this chain.', [], proofLine);
      return;
    }
    const s = r.state;
    const [classZh, classEn] = CLASS[s.docClass] || ['文件', 'document'];
    let kind = 'ok';
    let zh = '有效';
    let en = 'Valid';
    let sumZh = `由${departmentName(s.issuer)}签发的${classZh}，当前有效。`;
    let sumEn = `A ${classEn} issued by ${departmentName(s.issuer)}, valid now.`;
    if (s.status === 'revoked') {
      [kind, zh, en] = ['bad', '已撤销', 'Revoked'];
      sumZh = '签发后已被撤销，不再有效。';
      sumEn = 'It was revoked after it was issued and is no longer valid.';
    } else if (s.status === 'superseded') {
      [kind, zh, en] = ['warn', '已被取代', 'Superseded'];
      sumZh = '已被一份新文件取代。';
      sumEn = 'A newer document has replaced it.';
    } else if (r.expired) {
      [kind, zh, en] = ['warn', '已过期', 'Expired'];
      sumZh = `有效期已于 ${formatTime(s.validUntil)} 结束。`;
      sumEn = `Its validity ended on ${formatTime(s.validUntil)}.`;
    }
    const endorsers = s.endorsements.map((e) => departmentName(e.department)).join('、') || '—';
    showResult(kind, zh, en, sumZh, sumEn, [
      ['签发部门', 'Issued by', departmentName(s.issuer), 'issuer'],
      ['类型', 'Type', `${s.docType}（${classZh} / ${classEn}）`, 'type'],
      ['有效期自', 'Valid from', formatTime(s.validFrom), 'valid-from'],
      ['有效期至', 'Valid until', s.validUntil ? formatTime(s.validUntil) : '长期 / no expiry', 'valid-until'],
      ['认可部门', 'Endorsed by', endorsers, 'endorsers'],
      ['互认', 'Recognised', r.recognised ? '已满足互认要求 / yes' : '尚未满足互认要求 / not yet', 'recognised'],
    ], proofLine);
  } catch (error) {
    const reason = error instanceof ReceiptError ? error.message : String(error.message || error);
    showResult('bad', '核验失败', 'Verification failed',
      '节点给出的证明未通过核验，请勿信任此结果。',
      'The proof from the node did not check out: do not rely on it.',
      [['原因', 'Reason', reason, 'reason']], '');
  }
}

function start() {
  const pick = $('pick');
  $('file').addEventListener('change', (event) => {
    const file = event.target.files[0];
    if (file) verifyFile(file);
  });
  pick.addEventListener('dragover', (event) => { event.preventDefault(); pick.classList.add('over'); });
  pick.addEventListener('dragleave', () => pick.classList.remove('over'));
  pick.addEventListener('drop', (event) => {
    event.preventDefault();
    pick.classList.remove('over');
    const file = event.dataTransfer.files[0];
    if (file) verifyFile(file);
  });
  loadChain().catch((error) => {
    $('chain').replaceChildren(text(`无法读取链信息：${error.message}`,
      `Cannot read the chain: ${error.message}`));
  });
}

start();
