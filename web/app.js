// The verification page: the citizen picks or drops a file; the page hashes it here,
// fetches the document's receipt from the node, checks it against the chain's genesis
// (js/receipt.js) and says plainly, in Chinese and English, what it proves.
//
// Trust: the genesis comes from the node as its canonical encoding, and the page hashes
// it. If the page's address names the chain (?chain=<64 hex>, as a department would
// print it on its documents), a genesis of any other hash is refused; otherwise the
// chain id is shown for the citizen to compare. Receipts are never trusted: every proof
// is checked here. A receipt proves the ledger as of its newest block, so the page says
// which block and how old it is, and cautions when that is more than an hour ago (a later
// revocation would not show). The page itself comes from the node it checks: a citizen
// who trusts no node opens it from another party, with ?chain= in the address.

const STALE_MS = 60 * 60 * 1000;

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

// "3 分钟前 / 3 min ago"
function age(ms) {
  const units = [[86400000, '天', 'days'], [3600000, '小时', 'h'], [60000, '分钟', 'min'], [1000, '秒', 's']];
  const [size, zh, en] = units.find(([s]) => ms >= s) || units[units.length - 1];
  const n = Math.max(0, Math.floor(ms / size));
  return [`${n} ${zh}前`, `${n} ${en} ago`];
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
    const now = Date.now();
    const r = await verifyReceipt(chain.suite, chain.genesis, receipt, docHash, now);
    const proofLine = `区块 ${r.height}（${formatTime(r.timeMs)}）· block ${r.height}; ` +
      `文件哈希 file hash ${bytesToHex(docHash)}`;
    const [agoZh, agoEn] = age(now - r.timeMs);
    const asOf = ['证明截至', 'Proved as of',
      `区块 ${r.height}，${formatTime(r.timeMs)}（${agoZh}）/ block ${r.height}, ${agoEn}`, 'as-of'];
    const caution = now - r.timeMs > STALE_MS ? [['注意', 'Caution',
      `此证明反映的是${agoZh}的账本，之后的变更（如撤销）不会显示；如链上此后有新区块，请向其他节点核实。` +
      ` / This proof shows the ledger as of ${agoEn}: a later change, such as a revocation, ` +
      'would not show. If the chain has had blocks since, check with another node.', 'stale']] : [];
    if (!r.found) {
      showResult('none', '未找到', 'Not found',
        `截至区块 ${r.height}（${formatTime(r.timeMs)}），此文件未在本链上签发。`,
        `As of block ${r.height} (${formatTime(r.timeMs)}), this file has not been issued on this chain.`,
        [asOf, ...caution], proofLine);
      return;
    }
    const s = r.state;
    const [classZh, classEn] = CLASS[s.docClass] || ['文件', 'document'];
    let kind = 'ok';
    let zh = '有效';
    let en = 'Valid';
    let sumZh = `由${departmentName(s.issuer)}签发的${classZh}，截至区块 ${r.height} 有效。`;
    let sumEn = `A ${classEn} issued by ${departmentName(s.issuer)}, valid as of block ${r.height}.`;
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
    } else if (r.notYetValid) {
      [kind, zh, en] = ['warn', '尚未生效', 'Not yet in force'];
      sumZh = `有效期自 ${formatTime(s.validFrom)} 开始，目前尚未生效。`;
      sumEn = `Its validity starts on ${formatTime(s.validFrom)}: it is not in force yet.`;
    }
    const endorsers = s.endorsements.map((e) => departmentName(e.department)).join('、') || '—';
    showResult(kind, zh, en, sumZh, sumEn, [
      ['签发部门', 'Issued by', departmentName(s.issuer), 'issuer'],
      ['类型', 'Type', `${s.docType}（${classZh} / ${classEn}）`, 'type'],
      ['有效期自', 'Valid from', formatTime(s.validFrom), 'valid-from'],
      ['有效期至', 'Valid until', s.validUntil ? formatTime(s.validUntil) : '长期 / no expiry', 'valid-until'],
      ['认可部门', 'Endorsed by', endorsers, 'endorsers'],
      ['互认', 'Recognised', r.recognised ? '已满足互认要求 / yes' : '尚未满足互认要求 / not yet', 'recognised'],
      asOf, ...caution,
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
