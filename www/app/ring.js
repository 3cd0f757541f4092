// The ring: Q partitions around a circle coloured by their owner (§4.2, §6.2 strategy 3), the
// nodes inside it with their status, the selected key's position and preference list (§4.3),
// and, on a canvas on top, every message in flight from sender to receiver (flights.js).

import { MessageLayer, overlaps } from './flights.js';

export { KIND_COLORS, kindColor } from './flights.js';

const SVG = 'http://www.w3.org/2000/svg';
const C = 300; // centre of the 600 x 600 view box
const R_OUT = 274;
const R_IN = 240;
const R_NODES = 172;


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

export class RingView extends MessageLayer {
  /**
   * @param svg the <svg> element; @param canvas an overlay <canvas> (optional, for messages)
   * @param opts.onSelectNode(index), opts.onHoverFlight(flight|null), opts.onPickFlight(flight)
   */
  constructor(svg, canvas, opts = {}) {
    super();
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
}
