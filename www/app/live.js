// Live mode: this tab runs a real `Replica` from the npm package (js/index.js) against the
// relay that serves the page. The ring, the members and this tab's traffic are the live
// node's own view; a second tab that joins the same cluster becomes a second member.

import { RingView } from './ring.js';

const $ = (id) => document.getElementById(id);
// Random ids are `tab-`/`node-` and 32 hex digits: show the prefix and the first 8 (the full
// id is the cell's title and its data-node).
const shortId = (id) => String(id ?? '').replace(/^((?:tab|node)-[0-9a-f]{8})[0-9a-f]{24}$/, '$1…');
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

export class LiveMode {
  constructor() {
    this.replica = null;
    this.timer = null;
    this.ring = new RingView($('live-ring'), null, {});
    this.lastContext = new Map();
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
    r.on('*', (e) => {
      const bits = [e.type, e.node, e.key !== undefined ? `key=${e.key}` : '', e.count ? `${e.count} siblings` : '', e.epoch ? `epoch ${e.epoch}` : ''];
      if (e.type !== 'membership') this.log(bits.filter(Boolean).join(' '));
      this.render();
    });
    this.render();
    this.timer = setInterval(() => this.render(), 500);
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
    this.ring.setNodes(members.map((m) => ({ name: m.node, up: m.up, status: m.status, partitions: parts[m.node] ?? 0, side: 0 })));
    if (ring) {
      this.ring.setRing({ epoch: ring.epoch, q: ring.q, owners: ring.owners });
      $('live-epoch').textContent = `epoch ${ring.epoch}, ${ring.q} partitions`;
    }
    const body = $('live-members').tBodies[0];
    const html = members.map((m) => `<tr data-node="${esc(m.node)}"><td title="${esc(m.node)}">${esc(shortId(m.node))}${m.self ? ' <b>(this tab)</b>' : ''}</td><td>${esc(m.status)}</td><td>${m.up ? 'up' : '<b style="color:#b3261e">down</b>'}</td><td class="num">${parts[m.node] ?? 0}</td></tr>`).join('');
    if (body._html !== html) { body.innerHTML = html; body._html = html; }
    document.body.dataset.liveMembers = String(members.filter((m) => m.status === 'valid' || m.status === 'joining').length);
    const s = r.stats();
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
      const res = await r.get(key);
      this.lastContext.set(key, res.context);
      $('live-result').textContent = `get ${key}: ${res.values.length ? res.values.map((v) => JSON.stringify(v)).join(' | ') : 'not found'}${res.values.length > 1 ? ' (siblings: a put now merges them)' : ''}`;
      this.log(`get ${key}: ${res.values.length} value(s)`);
    } catch (err) {
      $('live-result').textContent = `get failed: ${err.code} ${err.message}`;
    }
  }
}
