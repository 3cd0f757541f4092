// The messages on the ring's canvas (the base of RingView, ring.js): every message in flight
// from sender to receiver at its virtual time, its label where it covers no other label, the
// rings of arrivals, a message replayed from the log, and a message the learner dropped
// (crossed out, fading). Hit-testing finds the message under the pointer.

import { CLIENT_KINDS } from './engine.js';

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

export const overlaps = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** Needs from the subclass: `names`, `nodeIndex(name)`, `nodePos(i)`, `nodeRadius()`, `svg`, `canvas`, `ctx`, `flights`, `effects`, `focus`. */
export class MessageLayer {
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
      const [x, y] = MessageLayer.at(p, t);
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
    const [x, y] = MessageLayer.at(p, h.arrives == null ? Math.min(t, 0.45) : t);
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
