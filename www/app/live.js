// Live mode: this tab runs a real `Replica` from the npm package (js/index.js) against the
// relay that serves the page. The ring, the members and this tab's traffic are the live
// node's own view; a second tab that joins the same cluster becomes a second member. The
// replica's opt-in trace (`replica.trace`) hands over every message it sends and receives:
// each flies on the ring between this tab and its peer, and the replies of a get show what
// each replica holds of the key.

import { RingView } from './ring.js';
import { isRoutine } from './engine.js';
import { paper } from './inspector.js';

/** How long a traced message takes to cross the ring on screen (real ms). */
const FLIGHT_MS = 700;

const $ = (id) => document.getElementById(id);
// Random ids are `tab-`/`node-` and 32 hex digits: show the prefix and the first 8 (the full
// id is the cell's title and its data-node).
const shortId = (id) => String(id ?? '').replace(/^((?:tab|node)-[0-9a-f]{8})[0-9a-f]{24}$/, '$1…');
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

export class LiveMode {
  constructor() {
    this.replica = null;
    this.timer = null;
    this.ring = new RingView($('live-ring'), $('live-flights'), { bg: $('live-ring-bg') });
    this.lastContext = new Map();
    this.letters = new Map(); // node id -> the letter the ring shows
    this.seq = 0;
    this.animated = {}; // kind -> messages drawn (for the tests)
    this.replicas = new Map(); // node id -> the clocks its last get-reply carried, for the selected key
    const frame = () => { this.ring.draw(performance.now(), FLIGHT_MS); requestAnimationFrame(frame); };
    requestAnimationFrame(frame);
    $('live-form').addEventListener('submit', (ev) => { ev.preventDefault(); this.join(); });
    $('btn-live-close').addEventListener('click', () => this.close());
    $('live-client').addEventListener('submit', (ev) => { ev.preventDefault(); this.put(); });
    $('live-get').addEventListener('click', () => this.get());
    window.addEventListener('pagehide', () => { this.replica?.close(); });
  }

  log(text) {
    const li = document.createElement('li');
    li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
    const ol = $('live-log');
    ol.prepend(li);
    while (ol.childElementCount > 200) ol.lastElementChild.remove();
  }

  async join() {
    if (this.replica) return;
    const cluster = $('live-cluster').value.trim() || 'demo';
    const relay = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    $('live-status').textContent = `joining ${cluster} through ${relay}…`;
    $('btn-live-join').disabled = true;
    try {
      const { Replica } = await import('ringlet');
      this.replica = await Replica.open({ cluster, relay, storage: 'memory', gossipIntervalMs: 500 });
    } catch (err) {
      $('live-status').textContent = `could not join: ${err?.code ?? ''} ${err?.message ?? err}`;
      $('btn-live-join').disabled = false;
      return;
    }
    const r = this.replica;
    window.liveReplica = r;
    $('live-status').innerHTML = `this tab is node <b title="${esc(r.id)}">${esc(shortId(r.id))}</b> of cluster <b>${esc(cluster)}</b>`;
    $('btn-live-close').disabled = false;
    document.body.dataset.live = r.id;
    r.trace((m) => this.onTrace(m));
    r.on('*', (e) => {
      const bits = [e.type, e.node, e.key !== undefined ? `key=${e.key}` : '', e.count ? `${e.count} siblings` : '', e.epoch ? `epoch ${e.epoch}` : ''];
      if (e.type !== 'membership') this.log(bits.filter(Boolean).join(' '));
      this.render();
    });
    this.render();
    this.timer = setInterval(() => this.render(), 500);
  }

  /** A letter per member (A, B, ... in id order): the ring's names; the table maps them to ids. */
  letter(id) {
    if (!this.letters.has(id)) this.letters.set(id, String.fromCharCode(65 + (this.letters.size % 26)));
    return this.letters.get(id);
  }

  /** One traced message: it flies between this tab and its peer. */
  onTrace(m) {
    const r = this.replica;
    if (!r) return;
    const me = this.letter(r.id);
    const peer = this.letter(m.peer);
    const now = performance.now();
    const id = ++this.seq;
    const f = {
      id, kind: m.kind, key: m.key, detail: m.versions.map(paper).join(' | '),
      from: m.dir === 'out' ? me : peer, to: m.dir === 'out' ? peer : me,
      // A sent message starts now; a received one is drawn arriving now.
      at: m.dir === 'out' ? now : now - FLIGHT_MS / 2, arrives: m.dir === 'out' ? now + FLIGHT_MS : now + FLIGHT_MS / 2,
    };
    f.routine = isRoutine(f);
    this.ring.addFlight(f);
    setTimeout(() => this.ring.land(f, false), f.arrives - now);
    this.animated[m.kind] = (this.animated[m.kind] ?? 0) + 1;
    if (!f.routine) this.log(`${m.dir === 'out' ? '→' : '←'} ${m.kind} ${m.dir === 'out' ? 'to' : 'from'} ${peer}${m.key ? ` · ${m.key}` : ''}${m.versions.length ? ` · ${m.versions.map(paper).join(' | ')}` : ''}`);
    // A get-reply names no key: it answers this tab's read in progress.
    const key = m.key ?? (m.kind === 'get-reply' ? this.reading : null);
    if (m.dir === 'in' && m.kind === 'get-reply' && key === $('live-key').value) {
      this.replicas.set(m.peer, m.versions);
      this.renderKey();
    }
  }

  /** The selected key: its preference list and what each replica's last reply carried. */
  renderKey() {
    const r = this.replica;
    if (!r) return;
    const key = $('live-key').value;
    let pl = [];
    try { pl = r.preflist(key); } catch { pl = []; }
    const n = 3;
    this.ring.setRanks(pl.map((id) => this.letter(id)), n);
    const rows = pl.slice(0, n + 2).map((id, k) => {
      const seen = this.replicas.get(id);
      const what = id === r.id ? 'this tab (answers from its own store)' : seen ? (seen.length ? seen.map((c) => `<code>${esc(paper(c))}</code>`).join(' ') : 'nothing') : 'no reply yet: press Get';
      return `<tr><td>${k < n ? `primary ${k + 1}` : `fallback f${k - n + 1}`}</td><td><b>${esc(this.letter(id))}</b> <small title="${esc(id)}">${esc(shortId(id))}</small></td><td>${what}</td></tr>`;
    }).join('');
    $('live-key-info').innerHTML = `<p><code>${esc(key)}</code>: its preference list, and the versions each replica sent in its last <b>get-reply</b>.</p><table class="table"><tbody>${rows}</tbody></table>`;
  }

  async close() {
    const r = this.replica;
    if (!r) return;
    this.replica = null;
    clearInterval(this.timer);
    await r.close();
    $('live-status').textContent = 'closed';
    $('btn-live-close').disabled = true;
    $('btn-live-join').disabled = false;
    delete document.body.dataset.live;
  }

  render() {
    const r = this.replica;
    if (!r) return;
    const members = r.members().slice().sort((a, b) => (a.node < b.node ? -1 : 1));
    const ring = r.ring();
    const parts = ring?.partitions ?? {};
    for (const m of members) this.letter(m.node);
    this.ring.setNodes(members.map((m) => ({ name: this.letter(m.node), up: m.up, status: m.status, partitions: parts[m.node] ?? 0, side: 0, self: m.self })));
    const selfIndex = members.findIndex((m) => m.self);
    if (selfIndex >= 0 && this.ring.selectedNode !== selfIndex) this.ring.selectNode(selfIndex);
    if (ring) {
      this.ring.setRing({ epoch: ring.epoch, q: ring.q, owners: ring.owners.map((o) => this.letter(o)) });
      $('live-epoch').textContent = `epoch ${ring.epoch}, ${ring.q} partitions`;
    }
    const body = $('live-members').tBodies[0];
    const html = members.map((m) => `<tr data-node="${esc(m.node)}"><td title="${esc(m.node)}"><b>${esc(this.letter(m.node))}</b> ${esc(shortId(m.node))}${m.self ? ' <b>(this tab)</b>' : ''}</td><td>${esc(m.status)}</td><td>${m.up ? 'up' : '<b style="color:#b3261e">down</b>'}</td><td class="num">${parts[m.node] ?? 0}</td></tr>`).join('');
    if (body._html !== html) { body.innerHTML = html; body._html = html; }
    document.body.dataset.liveMembers = String(members.filter((m) => m.status === 'valid' || m.status === 'joining').length);
    const s = r.stats();
    this.renderKey();
    $('live-stats').textContent = `frames in ${s.framesIn} · out ${s.framesOut} · gets ${s.gets} · puts ${s.puts} · forwarded ${s.forwarded} · keys held ${s.keysHeld} · hints ${s.hintsHeld} · read repairs ${s.readRepairs} · relay ${s.connected ? 'connected' : 'disconnected'}`;
  }

  async put() {
    const r = this.replica;
    if (!r) { $('live-result').textContent = 'join the cluster first'; return; }
    const key = $('live-key').value;
    try {
      const ctx = this.lastContext.get(key);
      const res = await r.put(key, $('live-value').value, ctx ? { context: ctx } : {});
      this.lastContext.set(key, res.context);
      $('live-result').textContent = `put ${key}: stored`;
      this.log(`put ${key} ok`);
    } catch (err) {
      $('live-result').textContent = `put failed: ${err.code} ${err.message}`;
    }
  }

  async get() {
    const r = this.replica;
    if (!r) { $('live-result').textContent = 'join the cluster first'; return; }
    const key = $('live-key').value;
    try {
      this.reading = key;
      this.replicas.clear();
      const res = await r.get(key).finally(() => { setTimeout(() => { if (this.reading === key) this.reading = null; }, 500); });
      this.lastContext.set(key, res.context);
      $('live-result').innerHTML = `get ${esc(key)}: ${res.values.length ? res.values.map((v) => `<code>${esc(JSON.stringify(v))}</code>`).join(' | ') : 'not found'}`
        + (res.values.length > 1 ? `<br><b>Siblings.</b> These ${res.values.length} versions were written concurrently: neither writer had seen the other's version, so neither descends from the other and every replica keeps both (§4.4). A put now, with this read's context <code>${esc(paper(res.context))}</code>, merges them into one version that descends from both.` : '');
      this.log(`get ${key}: ${res.values.length} value(s)`);
    } catch (err) {
      $('live-result').textContent = `get failed: ${err.code} ${err.message}`;
    }
  }
}
