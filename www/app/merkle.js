// Merkle anti-entropy drawn (§4.7): when two replicas' exchange finds a difference, the page
// shows both replicas' hash trees of that partition side by side: the roots, then only the
// children of differing nodes (each cell one subtree, coloured by its hash; red outline:
// the two replicas disagree), then the keys under the differing leaves. The bytes the
// exchange's messages took on the wire (their exact postcard size) stand against the bytes a
// comparison without the tree would send: every key and digest of both replicas.

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
const hue = (h) => (h === '·' ? null : (parseInt(h, 16) * 137) % 360);

export class MerkleView {
  constructor(app) {
    this.app = app;
    this.exchanges = new Map(); // xid -> { from, to, partition, bytes, messages, differ, view }
    this.shown = null;
    this.quiet = 0; // exchanges that ended at equal roots
  }

  /** An exchange's id: its two nodes and the opener's exchange id. */
  static id(e) { return `${[e.from, e.to].sort().join('|')}/${e.merkle.xid}`; }

  reset() {
    this.exchanges.clear();
    this.shown = null;
    this.quiet = 0;
    $('merkle-card').hidden = true;
    $('merkle').innerHTML = '';
  }

  onEvents(evs) {
    let dirty = false;
    for (const e of evs) {
      if (e.t !== 'send' || !e.merkle) continue;
      const m = e.merkle;
      const id = MerkleView.id(e);
      let x = this.exchanges.get(id);
      if (!x) {
        x = { xid: m.xid, opener: e.from, peer: e.to, partition: m.partition, bytes: 0, messages: 0, differ: false, keys: [], view: null, done: false };
        this.exchanges.set(id, x);
        if (this.exchanges.size > 64) this.exchanges.delete(this.exchanges.keys().next().value);
      }
      x.bytes += m.bytes;
      x.messages++;
      // The simulator attaches both trees, as they were then, to the first message of the
      // exchange that descends (src/wasm/sim/merkle.rs).
      if (m.trees && !x.differ) {
        x.differ = true;
        x.view = m.trees;
      }
      const k = /keys that differ: ([^;]+)/.exec(e.detail ?? '');
      if (k) for (const key of k[1].split(', ')) if (!x.keys.includes(key)) x.keys.push(key);
      if (m.last) {
        x.done = true;
        if (!x.differ) this.quiet++;
      }
      if (x.differ) { this.shown = x; dirty = true; }
    }
    if (dirty) this.dirty = true;
  }

  /** The exchanges that found differences, newest last. */
  found() { return [...this.exchanges.values()].filter((x) => x.differ && x.view); }

  render() {
    if (!this.dirty) return;
    this.dirty = false;
    const x = this.shown;
    if (!x || !x.view) return;
    $('merkle-card').hidden = false;
    const v = x.view;
    const tree = (side) => {
      const rows = [];
      rows.push(`<div class="mk-row"><span class="mk-d">root</span><span class="mk-cell${v.rootA !== v.rootB ? ' differ' : ''}" style="${style(side === 'a' ? v.rootA : v.rootB)}" title="root ${side === 'a' ? v.rootA : v.rootB}"></span></div>`);
      const depths = [...new Set(v.nodes.map((n) => n.depth))];
      for (const d of depths) {
        const groups = new Map();
        for (const n of v.nodes.filter((q) => q.depth === d)) {
          if (!groups.has(n.parent)) groups.set(n.parent, []);
          groups.get(n.parent).push(n);
        }
        const gs = [...groups.values()].map((g) => `<span class="mk-group">${g.map((n) => {
          const h = side === 'a' ? n.a : n.b;
          return `<span class="mk-cell${n.differ ? ' differ' : ''}" style="${style(h)}" title="depth ${d}, subtree ${n.index}: ${h === '·' ? 'empty' : `hash ${h}…`}" data-depth="${d}" data-differ="${n.differ}"></span>`;
        }).join('')}</span>`).join('');
        rows.push(`<div class="mk-row"><span class="mk-d">depth ${d}</span>${gs}</div>`);
      }
      return `<div class="mk-tree"><div class="mk-name">${esc(side === 'a' ? v.a : v.b)} <small>${side === 'a' ? v.keysA : v.keysB} keys</small></div>${rows.join('')}</div>`;
    };
    const keys = v.keys.map((k) => `<tr class="${k.differ ? 'differ' : ''}" data-key="${esc(k.key)}" data-differ="${k.differ}"><td>${esc(k.key)}</td><td class="mono">${esc(k.a ?? 'missing')}</td><td class="mono">${esc(k.b ?? 'missing')}</td><td>${k.differ ? 'differs: repaired' : 'same'}</td></tr>`).join('');
    const shownNodes = v.nodes.length + 1;
    const cost = x.bytes < v.fullBytes
      ? `<b>${x.bytes} bytes</b> in ${x.messages} messages, against <b>${v.fullBytes} bytes</b> to send every key and digest of both replicas.`
      : `<b>${x.bytes} bytes</b> in ${x.messages} messages; sending every key and digest would take ${v.fullBytes} bytes: with so few keys in a partition the tree saves nothing yet; it pays off as partitions grow.`;
    $('merkle').innerHTML = `
      <p class="small">Partition <b>${v.partition}</b>: ${esc(v.a)} and ${esc(v.b)} compared their roots (${v.rootA} ≠ ${v.rootB}), then only the children of the branches that differ (red outline) — ${shownNodes} hashes looked at, not the whole tree — down to the keys.</p>
      <div class="mk-trees">${tree('a')}${tree('b')}</div>
      <table class="table mk-keys"><thead><tr><th>key under a differing leaf</th><th>${esc(v.a)}</th><th>${esc(v.b)}</th><th></th></tr></thead><tbody>${keys}</tbody></table>
      <p class="small" id="merkle-bytes" data-bytes="${x.bytes}" data-full="${v.fullBytes}">The exchange: ${cost}</p>
      <p class="small">${this.found().length} exchange(s) found differences; ${this.quiet} ended at equal roots.</p>`;
    $('merkle-card').dataset.partition = String(v.partition);
  }
}

function style(h) {
  const c = hue(h);
  return c === null ? 'background:#f1f2f5' : `background:hsl(${c} 55% 72%)`;
}
