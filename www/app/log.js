// The message log: one line per message, request, reply, core event and fault, in virtual
// time. A message's line is linked to its animation: select it to replay the message on the
// ring; hover or click a message on the ring to find its line.

import { CLIENT_KINDS } from './engine.js';
import { kindColor } from './ring.js';
import { paper } from './inspector.js';

const MAX_LINES = 300;
/** At most this many new lines per frame; when more arrive, only the newest are kept. */
const MAX_FLUSH = 60;

export class LogView {
  constructor(ol, app) {
    this.ol = ol;
    this.app = app;
    this.lines = new Map(); // message id -> li
    this.sends = new Map(); // message id -> send event
    this.reqKeys = new Map(); // request id -> key
    this.filters = {};
    for (const f of ['client', 'repair', 'merkle', 'background', 'disk', 'key']) {
      const box = document.getElementById(`log-${f}`);
      this.filters[f] = box.checked;
      box.addEventListener('change', () => { this.filters[f] = box.checked; });
    }
    this.pending = [];
    this.skipped = 0;
    // One Tab stop for the whole log (not one per line): Tab lands on the list, the arrows
    // (and Home, End) move between its lines, Enter selects one.
    ol.tabIndex = 0;
    ol.addEventListener('keydown', (ev) => {
      const lines = [...ol.querySelectorAll('li > button')];
      if (!lines.length) return;
      const k = lines.indexOf(document.activeElement);
      const to = { ArrowDown: k + 1, ArrowUp: k - 1, Home: 0, End: lines.length - 1 }[ev.key];
      if (to === undefined) return;
      ev.preventDefault();
      lines[Math.max(0, Math.min(lines.length - 1, k < 0 ? 0 : to))].focus();
    });
  }

  /** Show or hide a category of lines (a scenario turns on what it explains). */
  show(category, on) {
    const box = document.getElementById(`log-${category}`);
    box.checked = on;
    this.filters[category] = on;
  }

  reset() {
    this.ol.innerHTML = '';
    this.pending = [];
    this.lines.clear();
    this.sends.clear();
    this.reqKeys.clear();
  }

  time(at) { return ((at - this.app.engine.t0) / 1000).toFixed(3); }

  keyOk(key, req) {
    if (!this.filters.key) return true;
    const k = key ?? (req !== undefined ? this.reqKeys.get(req) : undefined);
    return k === this.app.selectedKey;
  }

  /** A line for the reader (a refused action, a scenario note). */
  note(text) {
    const li = document.createElement('li');
    li.className = 'note';
    const b = document.createElement('button');
    b.type = 'button';
    b.tabIndex = -1;
    b.textContent = `— ${text}`;
    li.appendChild(b);
    this.append([li]);
  }

  /** Queue events; `flush` (once per animation frame) turns them into lines. */
  add(evs) {
    for (const e of evs) if (e.t !== 'frame' && e.t !== 'tick' && e.t !== 'quorum' && e.t !== 'versions') this.pending.push(e);
    if (this.pending.length > 20 * MAX_FLUSH) this.pending.splice(0, this.pending.length - 10 * MAX_FLUSH);
  }

  flush() {
    if (!this.pending.length) return;
    const evs = this.pending;
    this.pending = [];
    const items = [];
    for (const e of evs) {
      const li = this.line(e);
      if (li) items.push(li);
    }
    const cap = this.app.engine.speed === Infinity ? MAX_LINES : MAX_FLUSH;
    if (items.length > cap) {
      const dropped = items.splice(0, items.length - cap);
      for (const li of dropped) if (li.dataset.id) { this.lines.delete(Number(li.dataset.id)); this.sends.delete(Number(li.dataset.id)); }
      const note = this.make('note', `— ${dropped.length} more lines went by too fast (slow down or filter to read them)`);
      items.unshift(note);
    }
    if (items.length) this.append(items);
  }

  append(items) {
    // The list is laid out bottom-up (column-reverse): the newest line is the first child, so
    // the view stays on the newest lines without any scrolling from script.
    const frag = document.createDocumentFragment();
    for (let k = items.length - 1; k >= 0; k--) frag.appendChild(items[k]);
    this.ol.prepend(frag);
    let extra = this.ol.childElementCount - MAX_LINES;
    while (extra-- > 0) {
      const last = this.ol.lastElementChild;
      if (last.dataset.id) { this.lines.delete(Number(last.dataset.id)); this.sends.delete(Number(last.dataset.id)); }
      last.remove();
    }
  }

  make(cls, html, title, onClick) {
    const li = document.createElement('li');
    if (cls) li.className = cls;
    const b = document.createElement('button');
    b.type = 'button';
    b.tabIndex = -1; // the log is one Tab stop: arrows move between its lines
    b.innerHTML = html;
    if (title) b.title = title;
    if (onClick) b.addEventListener('click', onClick);
    li.appendChild(b);
    return li;
  }

  line(e) {
    const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
    switch (e.t) {
      case 'send': {
        const bg = e.routine;
        const cat = CLIENT_KINDS.has(e.kind) ? 'client' : e.kind === 'merkle' ? 'merkle' : bg ? 'background' : 'repair';
        if (!this.filters[cat]) return null;
        if (e.req !== undefined && e.key) this.reqKeys.set(e.req, e.key);
        if (this.filters.key && !this.keyOk(e.key, e.req)) return null;
        const dropped = e.arrives == null;
        const html = `<span class="t">${this.time(e.at)}</span> ${esc(e.from)}→${esc(e.to)} `
          + `<span class="k" style="color:${kindColor(e.kind)}">${esc(e.kind)}</span>`
          + `${e.key ? ` <b>${esc(e.key)}</b>` : ''} ${esc(paper(e.detail))}${dropped ? ' <b style="color:#b3261e">✗ dropped by the network</b>' : ''}`;
        const title = `message #${e.id}${e.req !== undefined ? ` for request ${e.req}` : ''}: sent at ${this.time(e.at)} s${dropped ? ', dropped' : `, arrives at ${this.time(e.arrives)} s`} — select to replay it on the ring`;
        const li = this.make(bg ? 'bg' : '', html, title, () => this.pick(e.id));
        li.dataset.id = String(e.id);
        this.lines.set(e.id, li);
        this.sends.set(e.id, e);
        return li;
      }
      case 'deliver': {
        const li = this.lines.get(e.id);
        if (li) li.firstChild.insertAdjacentHTML('beforeend', ' <span style="color:#1f7a44">✓</span>');
        return null;
      }
      case 'lost': {
        const li = this.lines.get(e.id);
        const why = e.by_you ? 'dropped by you' : `lost: ${esc(e.to)} is down`;
        if (li) {
          li.firstChild.insertAdjacentHTML('beforeend', ` <b class="lost" style="color:#b3261e">✗ ${why}</b>`);
          if (e.by_you) li.dataset.dropped = 'you';
        }
        return null;
      }
      case 'request': {
        this.reqKeys.set(e.req, e.key);
        if (!this.filters.client || !this.keyOk(e.key)) return null;
        const what = e.op === 'get' ? `get <b>${esc(e.key)}</b>`
          : e.op === 'put' ? `put <b>${esc(e.key)}</b> = "${esc(e.value)}" with context ${esc(e.context)}${e.context === '[]' ? ' (blind)' : ''}`
            : `${esc(e.op)} <b>${esc(e.key)}</b>${e.context ? ` context ${esc(e.context)}` : ''}`;
        return this.make(e.workload ? '' : 'reply-ok', `<span class="t">${this.time(e.at)}</span> ${e.workload ? 'client' : '<b>you</b>'}→${esc(e.node)} <span class="k">request ${e.req}</span> ${what}`, null,
          () => this.app.inspector.setKey(e.key));
      }
      case 'reply': {
        if (!this.filters.client || !this.keyOk(e.key, e.req)) return null;
        let what;
        if (!e.ok) what = `<b>${esc(e.code)}</b> ${esc(e.error)}`;
        else if (e.op === 'get') {
          what = e.versions.length === 0 ? 'not found'
            : `${e.versions.length} version${e.versions.length > 1 ? 's (siblings!)' : ''}: ${e.versions.map((v) => `${esc(v.value)} ${esc(paper(v.clock))}`).join(' | ')} — context ${esc(paper(e.context))}`;
        } else if (e.op === 'put' || e.op === 'delete') what = `stored, dot ${esc(paper(e.dot))}, clock ${esc(paper(e.context))}`;
        else what = 'done';
        return this.make(e.ok ? (e.workload ? '' : 'reply-ok') : 'reply-bad',
          `<span class="t">${this.time(e.at)}</span> ${esc(e.node)}→${e.workload ? 'client' : '<b>you</b>'} <span class="k">reply ${e.req}</span> ${esc(e.op)} ${esc(e.key)}: ${what} <span class="t">(${e.latency} ms)</span>`);
      }
      case 'event': {
        if (!this.filters.repair) return null;
        return this.make('', `<span class="t">${this.time(e.at)}</span> <b>${esc(e.node)}</b> ${esc(paper(e.text))}`);
      }
      case 'fault':
        return this.make('fault', `<span class="t">${this.time(e.at)}</span> <b>FAULT</b> ${esc(e.what)}`);
      case 'persist': {
        if (!this.filters.disk) return null;
        return this.make('bg', `<span class="t">${this.time(e.at)}</span> ${esc(e.node)} writes ${e.ops} op${e.ops > 1 ? 's' : ''} to its disk`);
      }
      default:
        return null;
    }
  }

  pick(id) {
    const e = this.sends.get(id);
    if (!e) return;
    for (const li of this.ol.querySelectorAll('li.sel')) li.classList.remove('sel');
    this.lines.get(id)?.classList.add('sel');
    this.app.ring.showFlight(e);
  }

  /** Scroll to a message's line (picked on the ring). */
  reveal(id) {
    const li = this.lines.get(id);
    if (!li) return;
    for (const x of this.ol.querySelectorAll('li.sel')) x.classList.remove('sel');
    li.classList.add('sel');
    li.scrollIntoView({ block: 'nearest' });
  }
}
