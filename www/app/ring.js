// The ring: Q partitions around a circle coloured by their owner (§4.2, §6.2 strategy 3), the
// nodes inside it with their status, the selected key's position and preference list (§4.3),
// and, on a canvas on top, every message in flight from sender to receiver.

import { CLIENT_KINDS } from './engine.js';

const SVG = 'http://www.w3.org/2000/svg';
const C = 300; // centre of the 600 x 600 view box
const R_OUT = 274;
const R_IN = 240;
const R_NODES = 172;

export const KIND_COLORS = {
  put: '#2457c5', 'put-hinted': '#c98a00', 'put-ack': '#6e93e0',
  get: '#1f7a44', 'get-reply': '#4fb072',
  forward: '#7b3fc4', 'forward-reply': '#a886dc',
  'read-repair': '#d2561b', 'ae-repair': '#0f6b67', 'hint-delivery': '#c98a00', 'hint-ack': '#e0b95a',
  transfer: '#b8327a', 'transfer-ack': '#d77fae', merkle: '#13837f',
  // The at-most-once handshake of a forwarded write, and a refusal by a node that left.
  'forward-accepted': '#a886dc', 'forward-cancel': '#5a2d91', 'forward-cancelled': '#c7b3ea',
  refused: '#c0392b', 'get-reply-pending': '#9ccfb0',
  'transfer-query': '#e3a8c8', 'transfer-done': '#d77fae',
};
export const kindColor = (k) => KIND_COLORS[k] ?? '#9aa3b2';

/** A stable, distinct colour per node index (golden-angle hues). */
export function nodeColor(i) {
  const hue = (i * 137.508 + 205) % 360;
  return `hsl(${hue.toFixed(1)} 58% 52%)`;
}

function el(name, attrs = {}, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

const overlaps = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

const polar = (r, frac) => {
  const a = frac * 2 * Math.PI - Math.PI / 2;
  return [C + r * Math.cos(a), C + r * Math.sin(a)];
};

function arcPath(r0, r1, f0, f1) {
  const [x0, y0] = polar(r1, f0);
  const [x1, y1] = polar(r1, f1);
  const [x2, y2] = polar(r0, f1);
  const [x3, y3] = polar(r0, f0);
  const large = f1 - f0 > 0.5 ? 1 : 0;
  return `M${x0.toFixed(2)},${y0.toFixed(2)}A${r1},${r1} 0 ${large} 1 ${x1.toFixed(2)},${y1.toFixed(2)}`
    + `L${x2.toFixed(2)},${y2.toFixed(2)}A${r0},${r0} 0 ${large} 0 ${x3.toFixed(2)},${y3.toFixed(2)}Z`;
}

export class RingView {
  /**
   * @param svg the <svg> element; @param canvas an overlay <canvas> (optional, for messages)
   * @param opts.onSelectNode(index), opts.onHoverFlight(flight|null), opts.onPickFlight(flight)
   */
  constructor(svg, canvas, opts = {}) {
    this.svg = svg;
    this.canvas = canvas;
    this.opts = opts;
    this.nodes = [];
    this.names = [];
    this.owners = [];
    this.ringKey = '';
    this.selectedNode = -1;
    this.keyInfo = null;
    this.flights = new Map();
    this.effects = [];
    this.highlight = null;
    this.showBackground = true;
    this.positions = [];
    this.quorums = new Map();
    svg.innerHTML = '';
    // The partitions live in their own SVG when the page gives one (`opts.bg`): they change
    // only with the ring, so the browser need not repaint 256 arcs when a node or a quorum
    // counter changes.
    const bg = opts.bg ?? svg;
    if (opts.bg) bg.innerHTML = '';
    el('circle', { cx: C, cy: C, r: R_OUT + 3, fill: 'none', stroke: '#d9dde4' }, bg);
    this.gParts = el('g', { 'aria-hidden': 'true' }, bg);
    this.gMarks = el('g', { 'aria-hidden': 'true', class: 'marks' }, svg);
    this.gKey = el('g', { 'aria-hidden': 'true' }, svg);
    this.gCut = el('g', { 'aria-hidden': 'true' }, svg);
    this.gNodes = el('g', {}, svg);
    this.gHeld = el('g', { 'aria-hidden': 'true' }, svg);
    this.gQuorum = el('g', { 'aria-hidden': 'true' }, svg);
    this.center = el('text', { x: C, y: C - 6, 'text-anchor': 'middle', 'font-size': 15, fill: '#5b6474', 'data-label': 'epoch', 'paint-order': 'stroke', stroke: '#fff', 'stroke-width': 4 }, svg);
    this.center2 = el('text', { x: C, y: C + 14, 'text-anchor': 'middle', 'font-size': 12, fill: '#8a93a3', 'data-label': 'partitions', 'paint-order': 'stroke', stroke: '#fff', 'stroke-width': 4 }, svg);
    if (canvas) {
      this.ctx = canvas.getContext('2d');
      this.size = null;
      new ResizeObserver((entries) => {
        const r = entries[0].contentRect;
        this.size = [r.width, r.height];
      }).observe(canvas);
      const wrap = canvas.parentElement;
      wrap.addEventListener('mousemove', (ev) => this.hover(ev));
      wrap.addEventListener('mouseleave', () => { this.hovered = null; opts.onHoverFlight?.(null, null); });
      wrap.addEventListener('click', (ev) => {
        const f = this.flightAt(ev);
        if (f) opts.onPickFlight?.(f);
      });
    }
  }

  nodeIndex(name) { return this.names.indexOf(name); }

  nodePos(i) {
    const n = Math.max(this.names.length, 1);
    return polar(R_NODES, i / n);
  }

  nodeRadius() {
    const n = this.names.length;
    return n <= 6 ? 27 : n <= 10 ? 23 : n <= 14 ? 19 : 17;
  }

  /** Nodes: [{name, up, status, side, partitions, suspected_by, keys, hints}]. */
  setNodes(nodes) {
    const names = nodes.map((n) => n.name);
    const rebuild = names.join(',') !== this.names.join(',');
    this.nodes = nodes;
    this.names = names;
    if (rebuild) this.buildNodes();
    this.updateNodes();
    if (rebuild) {
      this.drawRing(true);
      this.drawKey();
      // The chips and counters follow their nodes to their new places at once.
      this.heldSig = null;
      this.setHeld(this.lastHeld ?? {});
      this.quorumSig = null;
      this.setQuorums(this.lastQuorums ?? []);
    }
  }

  buildNodes() {
    this.gNodes.innerHTML = '';
    this.nodeEls = this.names.map((name, i) => {
      const [x, y] = this.nodePos(i);
      const r = this.nodeRadius();
      const g = el('g', { class: 'node', transform: `translate(${x.toFixed(1)},${y.toFixed(1)})`, tabindex: i === Math.max(0, this.selectedNode) ? 0 : -1, role: 'button', 'aria-keyshortcuts': 'C R X P G' }, this.gNodes);
      const ring = el('circle', { r: r + 5, fill: 'none', stroke: 'transparent', 'stroke-width': 3 }, g);
      const body = el('circle', { class: 'body', r, fill: nodeColor(i), stroke: '#fff', 'stroke-width': 2 }, g);
      const label = el('text', { 'text-anchor': 'middle', y: 5, 'font-size': name.length > 4 ? 12 : r > 20 ? 16 : 13, 'font-weight': 700, fill: '#fff', 'data-label': `name ${name}` }, g);
      // Long ids (a browser tab's `node-5fd0aa07`) show their last characters.
      label.textContent = name.length > 4 ? `…${name.slice(-4)}` : name;
      const sub = el('text', { 'text-anchor': 'middle', y: r + 15, 'font-size': 11, fill: '#5b6474', 'data-label': `status ${name}` }, g);
      // A crash mark beside the name (lower right), not over it.
      const mark = el('text', { 'text-anchor': 'middle', x: r * 0.8, y: r * 0.95, 'font-size': 16, fill: '#b3261e', 'font-weight': 800 }, g);
      const badge = el('g', { transform: `translate(${(r * 0.75).toFixed(1)},${(-r * 0.8).toFixed(1)})`, 'data-label': `suspicion ${name}` }, g);
      el('circle', { r: 8, fill: '#f0a500' }, badge);
      const badgeText = el('text', { 'text-anchor': 'middle', y: 4, 'font-size': 11, 'font-weight': 700, fill: '#fff' }, badge);
      badgeText.textContent = '?';
      const select = () => this.opts.onSelectNode?.(i);
      g.addEventListener('click', (ev) => { ev.stopPropagation(); select(); this.opts.onNodeMenu?.(i, g); });
      // The nodes are one Tab stop (roving focus): arrows move between them, Enter selects
      // and opens the node's actions, a letter acts on it at once.
      g.addEventListener('keydown', (ev) => {
        const n = this.names.length;
        const move = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[ev.key];
        if (move) { ev.preventDefault(); this.focusNode((i + move + n) % n); return; }
        if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); select(); this.opts.onNodeMenu?.(i, g); return; }
        const action = { c: 'crash', r: 'restart', x: 'cut', p: 'put', g: 'get' }[ev.key.toLowerCase()];
        if (action && !ev.ctrlKey && !ev.metaKey && !ev.altKey) { ev.preventDefault(); ev.stopPropagation(); select(); this.opts.onNodeAction?.(i, action); }
      });
      return { g, ring, body, label, sub, mark, badge, badgeText };
    });
  }

  /** Dim every node but `names` (null: none dimmed); messages between dimmed nodes fade too. */
  setFocus(names) {
    this.focus = names && names.length ? new Set(names) : null;
    this.applyFocus();
    this.wasIdle = false;
  }

  applyFocus() {
    (this.nodeEls ?? []).forEach((e, i) => {
      e.g.classList.toggle('dim', !!this.focus && !this.focus.has(this.names[i]));
    });
  }

  updateNodes() {
    this.applyFocus();
    const r = this.nodeRadius();
    const sig = `${this.selectedNode}|${JSON.stringify(this.nodes)}`;
    if (sig === this.nodesSig) return;
    this.nodesSig = sig;
    this.nodes.forEach((n, i) => {
      const e = this.nodeEls[i];
      if (!e) return;
      const one = `${i === this.selectedNode}|${JSON.stringify(n)}`;
      if (e.sig === one) return;
      e.sig = one;
      const color = nodeColor(i);
      const up = n.up !== false;
      const status = n.status ?? 'valid';
      e.body.setAttribute('fill', up ? (status === 'joining' ? '#fff' : color) : '#e4e6ea');
      e.body.setAttribute('stroke', up ? (status === 'joining' ? color : '#fff') : '#b9c0cc');
      e.body.setAttribute('stroke-width', status === 'joining' ? 4 : 2);
      e.body.setAttribute('stroke-dasharray', status === 'joining' ? '5 3' : status === 'leaving' ? '2 3' : '');
      e.body.setAttribute('opacity', status === 'exiting' || status === 'down' ? 0.45 : 1);
      e.label.setAttribute('fill', up && status !== 'joining' ? '#fff' : '#5b6474');
      e.mark.textContent = up ? '' : '✕';
      const suspected = up && (n.suspected_by?.length ?? 0) > 0;
      e.badge.setAttribute('visibility', suspected ? 'visible' : 'hidden');
      e.badgeText.textContent = suspected ? String(n.suspected_by.length) : '';
      const bits = [];
      if (n.self) bits.push('this tab');
      if (!up) bits.push('crashed');
      else if (status !== 'valid') bits.push(status);
      if (n.partitions !== undefined) bits.push(`${n.partitions}p`);
      if (n.hints) bits.push(`${n.hints} hint${n.hints > 1 ? 's' : ''}`);
      e.sub.textContent = bits.join(' · ');
      e.sub.setAttribute('y', r + 15);
      const sel = i === this.selectedNode;
      const cut = n.side === 1;
      e.ring.setAttribute('stroke', sel ? '#1d2330' : cut ? '#b3261e' : 'transparent');
      e.ring.setAttribute('stroke-dasharray', cut && !sel ? '4 3' : '');
      const label = [`Node ${n.name}`, up ? status : 'crashed',
        n.partitions !== undefined ? `${n.partitions} partitions` : null,
        n.keys !== undefined ? `${n.keys} keys` : null,
        suspected ? `suspected down by ${n.suspected_by.join(', ')}` : null,
        cut ? 'on the cut-off side of the network' : null,
        sel ? 'selected' : null].filter(Boolean).join(', ');
      e.g.setAttribute('aria-label', label);
      e.g.setAttribute('aria-pressed', sel ? 'true' : 'false');
    });
    this.drawCut();
  }

  drawCut() {
    const sides = this.nodes.map((n) => n.side).join('');
    if (sides === this.cutSig) return;
    this.cutSig = sides;
    this.gCut.innerHTML = '';
    if (!this.nodes.some((n) => n.side === 1)) return;
    // A dashed line between the two sides, through the centre, perpendicular to the mean
    // direction of the cut-off nodes.
    let sx = 0; let sy = 0;
    this.nodes.forEach((n, i) => {
      const [x, y] = this.nodePos(i);
      const s = n.side === 1 ? 1 : -1;
      sx += s * (x - C); sy += s * (y - C);
    });
    const len = Math.hypot(sx, sy) || 1;
    const px = -sy / len; const py = sx / len;
    el('line', { x1: C - px * 220, y1: C - py * 220, x2: C + px * 220, y2: C + py * 220, stroke: '#b3261e', 'stroke-width': 3, 'stroke-dasharray': '10 7', opacity: 0.7 }, this.gCut);
    const t = el('text', { x: C + (sx / len) * 60, y: C + (sy / len) * 60, 'text-anchor': 'middle', 'font-size': 13, fill: '#b3261e', 'font-weight': 600 }, this.gCut);
    t.textContent = 'network cut';
  }

  selectNode(i) {
    this.selectedNode = i;
    (this.nodeEls ?? []).forEach((e, k) => e.g.setAttribute('tabindex', k === i ? '0' : '-1'));
    this.updateNodes();
  }

  /** Move the ring's one Tab stop to node `i` and focus it. */
  focusNode(i) {
    (this.nodeEls ?? []).forEach((e, k) => e.g.setAttribute('tabindex', k === i ? '0' : '-1'));
    this.nodeEls?.[i]?.g.focus();
  }

  /** The ring: `{ epoch, q, owners }`. */
  setRing(ring) {
    const key = `${ring.epoch}:${ring.owners.join(',')}`;
    if (key === this.ringKey) return;
    const old = this.owners;
    this.owners = ring.owners;
    this.q = ring.q;
    this.epoch = ring.epoch;
    this.ringKey = key;
    this.drawRing(false, old);
    this.drawKey();
    this.center.textContent = ring.owners.length ? `ring epoch ${ring.epoch}` : 'no ring yet';
    this.center2.textContent = `${ring.q} partitions`;
  }

  drawRing(recolor, old = []) {
    const q = this.owners.length;
    if (!q) { this.gParts.innerHTML = ''; this.partEls = []; return; }
    if (!this.partEls || this.partEls.length !== q) {
      this.gParts.innerHTML = '';
      this.partEls = [];
      for (let p = 0; p < q; p++) {
        const path = el('path', { d: arcPath(R_IN, R_OUT, p / q, (p + 1) / q), stroke: '#fff', 'stroke-width': q > 128 ? 0.4 : 1 }, this.gParts);
        this.partEls.push(path);
      }
      recolor = true;
    }
    for (let p = 0; p < q; p++) {
      const owner = this.owners[p];
      if (!recolor && old[p] === owner) continue;
      const i = this.nodeIndex(owner);
      this.partEls[p].setAttribute('fill', i >= 0 ? nodeColor(i) : '#ccc');
      if (!recolor && old.length === q && old[p] !== owner) {
        // A partition changed owner: flash it.
        this.partEls[p].animate?.([{ opacity: 0.2 }, { opacity: 1 }], { duration: 900 });
      }
    }
  }

  /** Rank badges on the nodes of a preference list (live mode: no key position is known). */
  setRanks(names, n) {
    const sig = `${names.join(',')}|${n}|${this.names.join(',')}`;
    if (sig === this.ranksSig) return;
    this.ranksSig = sig;
    this.gKey.innerHTML = '';
    names.slice(0, n + 2).forEach((name, rank) => {
      const i = this.nodeIndex(name);
      if (i < 0) return;
      const [nx, ny] = this.nodePos(i);
      const r = this.nodeRadius();
      const primary = rank < n;
      const badge = el('g', { 'data-label': `rank ${name}` }, this.gKey);
      el('circle', { cx: nx - r * 0.8, cy: ny - r * 0.75, r: 9, fill: primary ? '#1d2330' : '#c98a00', stroke: '#fff', 'stroke-width': 1.5 }, badge);
      const t = el('text', { x: nx - r * 0.8, y: ny - r * 0.75 + 4, 'text-anchor': 'middle', 'font-size': 10, 'font-weight': 700, fill: '#fff' }, badge);
      t.textContent = primary ? String(rank + 1) : `f${rank - n + 1}`;
    });
  }

  /** Outline partitions (a guided step names them: the ones a join moved); [] clears. */
  markPartitions(list) {
    this.gMarks.innerHTML = '';
    const q = this.owners.length;
    if (!q) return;
    for (const p of list ?? []) {
      el('path', { d: arcPath(R_IN - 4, R_OUT + 4, p / q, (p + 1) / q), fill: 'none', stroke: '#1d2330', 'stroke-width': 2.5, class: 'moved', 'data-partition': p }, this.gMarks);
    }
  }

  /** The selected key: keyInfo from the simulator (position, partition, preflist, N). */
  setKey(info) {
    this.keyInfo = info;
    this.drawKey();
  }

  drawKey() {
    const info = this.keyInfo;
    const sig = info ? `${info.key}|${info.partition}|${info.n}|${info.preflist.join(',')}|${this.ringKey}|${this.names.join(',')}` : '';
    if (sig === this.keySig) return;
    this.keySig = sig;
    this.gKey.innerHTML = '';
    if (!info || !this.owners.length) return;
    const q = this.owners.length;
    // The preference list walk: clockwise from the key's partition until N distinct owners.
    const seen = [];
    const walked = [];
    for (let k = 0; k < q && seen.length < info.n; k++) {
      const p = (info.partition + k) % q;
      walked.push(p);
      if (!seen.includes(this.owners[p])) seen.push(this.owners[p]);
    }
    for (const p of walked) {
      el('path', { d: arcPath(R_OUT + 3, R_OUT + 9, p / q, (p + 1) / q), fill: '#1d2330', opacity: 0.65 }, this.gKey);
    }
    const [kx, ky] = polar(R_OUT + 12, info.position);
    const [tx, ty] = polar(R_OUT - 2, info.position);
    el('line', { x1: kx, y1: ky, x2: tx, y2: ty, stroke: '#1d2330', 'stroke-width': 3 }, this.gKey);
    el('circle', { cx: kx, cy: ky, r: 5, fill: '#f0a500', stroke: '#1d2330', 'stroke-width': 1.5 }, this.gKey);
    // The key's name: outside the ring at the top and bottom, inside it on the sides (it
    // would be clipped outside), along the marker.
    const side = Math.sin(info.position * 2 * Math.PI);
    const inside = Math.abs(side) > 0.45;
    const [lx, ly] = polar(inside ? R_IN - 5 : R_OUT + 16, info.position);
    const anchor = inside ? (side > 0 ? 'end' : 'start') : 'middle';
    const dy = inside ? 4 : (Math.cos(info.position * 2 * Math.PI) > 0 ? -2 : 12);
    const label = el('text', { x: lx, y: ly + dy, 'font-size': 12, 'font-weight': 700, fill: '#1d2330', 'text-anchor': anchor, 'data-label': 'key', 'paint-order': 'stroke', stroke: '#fff', 'stroke-width': 3 }, this.gKey);
    label.textContent = info.key;
    // Lines from the key's partition to its preference list: primaries solid, fallbacks dashed.
    const [px, py] = polar(R_IN - 4, info.position);
    info.preflist.forEach((name, rank) => {
      const i = this.nodeIndex(name);
      if (i < 0) return;
      const primary = rank < info.n;
      if (!primary && rank > info.n + 1) return;
      const [nx, ny] = this.nodePos(i);
      el('line', { x1: px, y1: py, x2: nx, y2: ny, stroke: primary ? '#1d2330' : '#c98a00', 'stroke-width': primary ? 1.6 : 1.2, 'stroke-dasharray': primary ? '' : '5 4', opacity: primary ? 0.45 : 0.6 }, this.gKey);
      // The rank sits on the node's upper left edge (the suspicion badge takes the right).
      const r = this.nodeRadius();
      const [bx, by] = [nx - r * 0.8, ny - r * 0.75];
      const badge = el('g', { 'data-label': `rank ${name}` }, this.gKey);
      el('circle', { cx: bx, cy: by, r: 9, fill: primary ? '#1d2330' : '#c98a00', stroke: '#fff', 'stroke-width': 1.5 }, badge);
      const t = el('text', { x: bx, y: by + 4, 'text-anchor': 'middle', 'font-size': 10, 'font-weight': 700, fill: '#fff' }, badge);
      t.textContent = primary ? String(rank + 1) : `f${rank - info.n + 1}`;
    });
  }

  /** What each node holds of the selected key: name -> { values: [..], hints: [..] }. */
  setHeld(held) {
    this.lastHeld = held;
    const sig = JSON.stringify(held) + this.names.join(',');
    if (sig === this.heldSig) return;
    this.heldSig = sig;
    this.gHeld.innerHTML = '';
    for (const [name, h] of Object.entries(held)) {
      const i = this.nodeIndex(name);
      if (i < 0 || (!h.values.length && !h.hints.length)) continue;
      const [x, y] = this.nodePos(i);
      const r = this.nodeRadius();
      const parts = [...h.values, ...h.hints.map((v) => `(${v})`)];
      let text = parts.join(' · ');
      if (text.length > 22) text = `${text.slice(0, 21)}…`;
      const w = text.length * 6.6 + 10;
      // Above the node: below it are its status line, and inwards its quorum counters.
      const g = el('g', { transform: `translate(${x.toFixed(1)},${(y - r - 11).toFixed(1)})`, 'data-label': `held ${name}` }, this.gHeld);
      el('rect', { x: -w / 2, y: -10, width: w, height: 15, rx: 4, fill: h.values.length > 1 ? '#f3e8ff' : '#eef3fd', stroke: h.values.length > 1 ? '#8a2be2' : '#9fb6e8', 'stroke-dasharray': h.values.length ? '' : '3 2' }, g);
      const t = el('text', { 'text-anchor': 'middle', y: 1.5, 'font-size': 11, 'font-weight': 600, fill: '#1d2330', 'font-family': 'ui-monospace, monospace' }, g);
      t.textContent = text;
    }
  }

  /** Quorum counters to draw beside their coordinators: key -> {node, kind, got, needed, state}. */
  setQuorums(list) {
    this.lastQuorums = list;
    const sig = list.map((q) => `${q.node}/${q.kind}/${q.got}/${q.needed}/${q.state}`).join('|') + this.names.join(',');
    if (sig === this.quorumSig) return;
    this.quorumSig = sig;
    this.gQuorum.innerHTML = '';
    const perNode = new Map();
    // Each counter goes inwards from its node, at the first place where it covers no label
    // (names, badges, chips, the key, the centre texts), no node and no other counter.
    this.boxesSig = null;
    const taken = this.staticLabelBoxes().filter((b) => !b.quorum);
    const rr = this.nodeRadius();
    this.names.forEach((_, j) => {
      const [x, y] = this.nodePos(j);
      taken.push({ x: x - rr - 2, y: y - rr - 2, w: 2 * rr + 4, h: 2 * rr + 4 });
      taken.push({ x: x - 80, y: y - rr - 22, w: 160, h: 17 }); // where its held versions' chip goes
      taken.push({ x: x - 50, y: y + rr + 3, w: 100, h: 16 }); // where its status line goes
    });
    for (const qd of list) {
      const i = this.nodeIndex(qd.node);
      if (i < 0) continue;
      const k = perNode.get(i) ?? 0;
      perNode.set(i, k + 1);
      if (k > 2) continue;
      const [nx, ny] = this.nodePos(i);
      const dx = C - nx; const dy = C - ny; const d = Math.hypot(dx, dy) || 1;
      const w = 26 + qd.needed * 12;
      let x = 0; let y = 0; let free = false;
      for (let step = 0; step < 40 && !free; step++) {
        const along = rr + 22 + (step >> 1) * 7;
        const across = step % 2 ? 0 : (step % 4 === 0 ? 1 : -1) * Math.min(step, 6) * 4;
        x = nx + (dx / d) * along - (dy / d) * across;
        y = ny + (dy / d) * along + (dx / d) * across;
        const b = { x: x - w / 2, y: y - 9, w, h: 18 };
        if (!taken.some((o) => overlaps(b, o))) { taken.push(b); free = true; }
      }
      if (!free) continue; // no room left beside this node: the inspector lists every counter
      const g = el('g', { transform: `translate(${(x - w / 2).toFixed(1)},${(y - 9).toFixed(1)})`, 'data-label': `quorum ${qd.node} ${k}` }, this.gQuorum);
      const fill = qd.state === 'ok' ? '#eaf7ee' : qd.state === 'bad' ? '#fdecea' : '#fff';
      el('rect', { width: w, height: 18, rx: 5, fill, stroke: '#1d2330', 'stroke-width': 1 }, g);
      const t = el('text', { x: 4, y: 13, 'font-size': 11, 'font-weight': 700, fill: '#1d2330' }, g);
      t.textContent = qd.kind === 'get' ? 'R' : 'W';
      for (let s = 0; s < qd.needed; s++) {
        const on = s < qd.got;
        el('rect', { x: 16 + s * 12, y: 4, width: 10, height: 10, rx: 2, fill: on ? (qd.state === 'bad' ? '#b3261e' : qd.state === 'ok' ? '#1f7a44' : '#2457c5') : '#dde2ea' }, g);
      }
    }
    this.boxesSig = null; // the message labels must see the counters
  }

  // ---- messages on the canvas -----------------------------------------------------------------

  addFlight(e) { this.flights.set(e.id, { ...e, born: performance.now() }); }

  land(e, lost) {
    const f = this.flights.get(e.id);
    this.flights.delete(e.id);
    const i = this.nodeIndex(e.to);
    if (i < 0 || (!f && !lost)) return;
    if (f && f.routine && !this.showBackground) return;
    const [x, y] = this.nodePos(i);
    this.effects.push({ x, y, color: lost ? '#b3261e' : kindColor(f?.kind), start: performance.now(), lost, big: f ? !f.routine : true });
  }

  /** The learner dropped message `e.id` in flight: it stops where it was, crossed out, and fades. */
  cutFlight(e) {
    const f = this.flights.get(e.id);
    if (!f) return;
    f.cut = { at: e.at, start: performance.now() };
  }

  clearFlights() { this.flights.clear(); this.effects = []; this.highlight = null; }

  /** Draw a past or present message's path and replay it (from the log). */
  showFlight(e) { this.highlight = { ...e, start: performance.now() }; }

  resize() {
    if (!this.canvas) return;
    if (!this.size) { const r = this.canvas.getBoundingClientRect(); this.size = [r.width, r.height]; }
    const dpr = Math.min(window.devicePixelRatio || 1, 2);
    const w = Math.round(this.size[0] * dpr); const h = Math.round(this.size[1] * dpr);
    if (this.canvas.width !== w || this.canvas.height !== h) { this.canvas.width = w; this.canvas.height = h; }
    this.scale = w / 600;
  }

  path(f) {
    const a = this.nodeIndex(f.from); const b = this.nodeIndex(f.to);
    if (a < 0 || b < 0) return null;
    const [x0, y0] = this.nodePos(a);
    const [x1, y1] = this.nodePos(b);
    const dx = x1 - x0; const dy = y1 - y0; const len = Math.hypot(dx, dy) || 1;
    // Bend to the right of the direction of travel, so a request and its answer do not overlap.
    const bend = 0.12 * len;
    const cx = (x0 + x1) / 2 + (dy / len) * bend; const cy = (y0 + y1) / 2 - (dx / len) * bend;
    return { x0, y0, x1, y1, cx, cy };
  }

  /** The boxes of the ring's labels (view coordinates), cached until the drawing changes. */
  staticLabelBoxes() {
    const sig = `${this.nodesSig}|${this.heldSig}|${this.quorumSig}|${this.keySig}|${this.ringKey}`;
    if (sig !== this.boxesSig) {
      this.boxesSig = sig;
      const box = this.svg.getBoundingClientRect();
      const k = box.width ? 600 / box.width : 1;
      this.boxes = [...this.svg.querySelectorAll('[data-label]')].filter((e) => e.getAttribute('visibility') !== 'hidden' && e.textContent !== '').map((e) => {
        const r = e.getBoundingClientRect();
        return { x: (r.left - box.left) * k, y: (r.top - box.top) * k, w: r.width * k, h: r.height * k, quorum: e.dataset.label.startsWith('quorum') };
      }).filter((b) => b.w > 0 && b.h > 0);
    }
    return [...this.boxes];
  }

  static at(p, t) {
    const u = 1 - t;
    return [u * u * p.x0 + 2 * u * t * p.cx + t * t * p.x1, u * u * p.y0 + 2 * u * t * p.cy + t * t * p.y1];
  }

  /** Draw every message at virtual time `vt`. */
  draw(vt, nominalLatency = 20) {
    if (!this.ctx) return;
    const idle = this.flights.size === 0 && this.effects.length === 0 && !this.highlight;
    if (idle) this.msgLabels = []; // no message, no message label
    if (idle && this.wasIdle) return; // nothing moved: leave the canvas as it is
    this.wasIdle = idle;
    this.resize();
    const ctx = this.ctx;
    const s = this.scale;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.setTransform(s, 0, 0, s, 0, 0);
    const now = performance.now();
    this.positions = [];
    this.msgLabels = [];
    const taken = this.staticLabelBoxes();
    let labels = 0;
    const busy = this.flights.size > 40;
    for (const f of this.flights.values()) {
      const bg = f.routine;
      if (bg && !this.showBackground) continue;
      const p = this.path(f);
      if (!p) continue;
      let t;
      let dropped = false;
      let fade = 1;
      if (f.cut) {
        // Dropped by the learner: frozen where it was, crossed out, fading for a second.
        const age = now - f.cut.start;
        if (age > 1200) { this.flights.delete(f.id); continue; }
        dropped = true;
        fade = 1 - age / 1200;
        t = Math.max(0, Math.min(1, (f.cut.at - f.at) / Math.max(f.arrives - f.at, 1)));
      } else if (f.arrives == null) {
        dropped = true;
        t = Math.min(0.45, (vt - f.at) / Math.max(nominalLatency, 1));
        if ((vt - f.at) / Math.max(nominalLatency, 1) > 1.2 && now - f.born > 700) { this.flights.delete(f.id); continue; }
      } else {
        t = Math.max(0, Math.min(1, (vt - f.at) / Math.max(f.arrives - f.at, 1)));
      }
      const [x, y] = RingView.at(p, t);
      const color = kindColor(f.kind);
      const faded = this.focus && !this.focus.has(f.from) && !this.focus.has(f.to);
      ctx.globalAlpha = (faded ? 0.2 : 1) * fade;
      if (!bg) {
        ctx.strokeStyle = color;
        ctx.globalAlpha = (faded ? 0.06 : 0.25) * fade;
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.moveTo(p.x0, p.y0);
        ctx.quadraticCurveTo(p.cx, p.cy, p.x1, p.y1);
        ctx.stroke();
        ctx.globalAlpha = (faded ? 0.2 : 1) * fade;
      }
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.arc(x, y, bg ? 3 : 6.5, 0, Math.PI * 2);
      ctx.fill();
      if (!bg) {
        ctx.strokeStyle = '#fff';
        ctx.lineWidth = 1.5;
        ctx.stroke();
      }
      if (dropped) {
        ctx.strokeStyle = '#b3261e';
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.moveTo(x - 6, y - 6); ctx.lineTo(x + 6, y + 6);
        ctx.moveTo(x + 6, y - 6); ctx.lineTo(x - 6, y + 6);
        ctx.stroke();
      }
      ctx.globalAlpha = 1;
      if (!bg && !faded && (!busy || CLIENT_KINDS.has(f.kind)) && labels < 24) {
        // A label goes where it covers no other label (node names, badges, chips, counters
        // and the labels placed so far); with no free spot, the dot goes unlabelled.
        ctx.font = '600 11px system-ui, sans-serif';
        const text = f.cut ? `${f.kind} (dropped by you)` : dropped ? `${f.kind} (lost)` : f.kind;
        const w = ctx.measureText(text).width;
        const spot = [[x + 8, y - 15], [x + 8, y + 4], [x - 8 - w, y - 15], [x - 8 - w, y + 4]]
          .map(([bx, by]) => ({ x: bx, y: by, w, h: 12 }))
          .find((b) => b.x >= 0 && b.x + b.w <= 600 && b.y >= 0 && b.y + b.h <= 600 && !taken.some((o) => overlaps(b, o)));
        if (spot) {
          labels++;
          taken.push(spot);
          this.msgLabels.push({ ...spot, text });
          ctx.fillStyle = '#1d2330';
          ctx.fillText(text, spot.x, spot.y + 10);
        }
      }
      if (!f.cut) this.positions.push({ x, y, f });
    }
    // Arrivals: a ring that grows and fades (real time, visible at any speed).
    this.effects = this.effects.filter((e) => now - e.start < 600);
    for (const e of this.effects) {
      const k = (now - e.start) / 600;
      ctx.globalAlpha = 1 - k;
      ctx.strokeStyle = e.color;
      ctx.lineWidth = e.big ? 3 : 1.5;
      ctx.beginPath();
      ctx.arc(e.x, e.y, this.nodeRadius() + 4 + k * (e.big ? 14 : 7), 0, Math.PI * 2);
      ctx.stroke();
      if (e.lost) {
        ctx.fillStyle = '#b3261e';
        ctx.font = '700 16px system-ui';
        ctx.fillText('lost', e.x + this.nodeRadius(), e.y - this.nodeRadius());
      }
      ctx.globalAlpha = 1;
    }
    this.drawHighlight(vt, now);
  }

  drawHighlight(vt, now) {
    const h = this.highlight;
    if (!h) return;
    const age = now - h.start;
    if (age > 3000) { this.highlight = null; return; }
    const p = this.path(h);
    if (!p) return;
    const ctx = this.ctx;
    ctx.globalAlpha = age > 2200 ? (3000 - age) / 800 : 1;
    ctx.strokeStyle = '#f0a500';
    ctx.lineWidth = 5;
    ctx.setLineDash([8, 6]);
    ctx.beginPath();
    ctx.moveTo(p.x0, p.y0);
    ctx.quadraticCurveTo(p.cx, p.cy, p.x1, p.y1);
    ctx.stroke();
    ctx.setLineDash([]);
    const t = Math.min(1, age / 1200);
    const [x, y] = RingView.at(p, h.arrives == null ? Math.min(t, 0.45) : t);
    ctx.fillStyle = kindColor(h.kind);
    ctx.strokeStyle = '#f0a500';
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.arc(x, y, 9, 0, Math.PI * 2);
    ctx.fill();
    ctx.stroke();
    ctx.font = '700 12px system-ui, sans-serif';
    ctx.fillStyle = '#1d2330';
    ctx.fillText(`${h.kind} ${h.from}→${h.to}`, x + 11, y + 4);
    ctx.globalAlpha = 1;
  }

  flightAt(ev) {
    if (!this.canvas) return null;
    const rect = this.canvas.getBoundingClientRect();
    const x = ((ev.clientX - rect.left) / rect.width) * 600;
    const y = ((ev.clientY - rect.top) / rect.height) * 600;
    let best = null; let bd = 14;
    for (const p of this.positions) {
      const d = Math.hypot(p.x - x, p.y - y);
      if (d < bd) { bd = d; best = p.f; }
    }
    return best;
  }

  hover(ev) {
    const f = this.flightAt(ev);
    this.hovered = f;
    this.opts.onHoverFlight?.(f, ev);
  }

  /** Where message `id` is drawn now, in client (page) coordinates; null when it is not drawn. */
  flightPoint(id) {
    const p = this.positions.find((q) => q.f.id === id);
    if (!p || !this.canvas) return null;
    const rect = this.canvas.getBoundingClientRect();
    return { x: rect.left + (p.x / 600) * rect.width, y: rect.top + (p.y / 600) * rect.height };
  }
}
