// The key inspector: where a key lives (its MD5 position, partition and preference list, with
// N/R/W), the versions every replica holds in the paper's notation, the quorum counters of
// the requests on it, and every comparison and merge of its versions (§4.4) as it happens.

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

const REL_TEXT = {
  descends: ['descends from', 'supersedes it: the old version is dropped'],
  ancestor: ['is an ancestor of', 'is already covered: ignored'],
  equal: ['is the same version as', 'nothing to do'],
  concurrent: ['is concurrent with', 'neither saw the other: both are kept as siblings'],
};

/**
 * Text in the paper's notation (§4.4, figure 3): the core writes a clock `[(Sx,2),(Sy,1)]`
 * and a dot `(Sx,2)`; the paper writes `([Sx,2],[Sy,1])` and `[Sx,2]`. Only the display
 * changes: what the page sends back (a context) is turned back by `fromPaper`.
 */
export function paper(text) {
  return String(text ?? '')
    .replace(/\[((?:\([^,()[\]]+,\d+\),?)*)\]/g, (_, inner) => `(${inner.replace(/\(([^,()[\]]+),(\d+)\)/g, '[$1,$2]')})`)
    .replace(/\(([^,()[\]\s]+),(\d+)\)/g, '[$1,$2]');
}

/** A context typed in the paper's notation, back in the core's: `([Sx,2])` -> `[(Sx,2)]`. */
export function fromPaper(text) {
  const t = String(text ?? '').trim();
  if (!t.startsWith('(')) return t;
  return `[${t.slice(1, -1).replace(/\[([^,[\]]+),(\d+)\]/g, '($1,$2)')}]`;
}

/**
 * A version chip: value and clock in the paper's notation. A version whose dot is not the
 * successor of its past (a blind write's `[Sx,2]` with past `()`) shows dot and past on the
 * page, since its clock alone would be misread as descending from `[Sx,1]`.
 */
export function chip(v, extra = '') {
  const title = `value ${v.value} · dot ${paper(v.dot)} (the write event) · past ${paper(v.past)} (what its writer had seen) · clock = past ∪ dot = ${paper(v.clock)}`;
  const body = v.detached
    ? `dot ${esc(paper(v.dot))} <span class="past">past ${esc(paper(v.past))}</span>`
    : esc(paper(v.clock));
  const odd = /[@~]/.test(v.clock) ? ' <a class="gl" href="#g-actors" title="what A@i1, A@1000 and A~5 mean">?</a>' : '';
  return `<span class="ver${v.deleted ? ' dead' : ''}${v.detached ? ' detached' : ''}${extra}" title="${esc(title)}"><b>${esc(v.value)}</b> ${body}${odd}</span>`;
}

export class Inspector {
  constructor(app) {
    this.app = app;
    this.info = null;
    this.merges = [];
    this.lastContext = new Map(); // key -> context of the last get
    $('key-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const k = $('key-input').value.trim();
      if (k) this.setKey(k);
    });
    $('client-form').addEventListener('submit', (ev) => { ev.preventDefault(); this.client('put'); });
    $('btn-get').addEventListener('click', () => this.client('get'));
    $('btn-delete').addEventListener('click', () => this.client('delete'));
  }

  get key() { return this.app.selectedKey; }

  reset() {
    this.merges = [];
    this.graph = new Map();
    // A new cluster knows none of the old one's versions: a context from it would be stale.
    this.lastContext.clear();
    $('client-context').value = '';
    $('merges').innerHTML = '';
    $('quorums').innerHTML = '';
    $('client-result').textContent = '';
    $('client-result').className = 'result';
    this.myReqs = new Set();
  }

  /** Buttons for the keys in use: the workload's hot keys and the keys requests named. */
  renderChips() {
    const keys = [...new Set([this.key, ...(this.recent ?? []), 'cart/ada', 'cart/bob', 'cart/cy', 'profile/dee'])].slice(0, 9);
    const html = keys.map((k) => `<button type="button" data-key="${esc(k)}" aria-pressed="${k === this.key}">${esc(k)}</button>`).join('');
    const box = $('key-chips');
    if (box._html === html) return;
    box._html = html;
    box.innerHTML = html;
    for (const b of box.querySelectorAll('button')) b.addEventListener('click', () => this.setKey(b.dataset.key));
  }

  setKey(key) {
    this.recent = [key, ...(this.recent ?? []).filter((k) => k !== key)].slice(0, 5);
    this.app.selectedKey = key;
    $('key-input').value = key;
    this.merges = [];
    this.graph = new Map();
    $('merges').innerHTML = '';
    const ctx = this.lastContext.get(key);
    $('client-context').value = ctx ? paper(ctx) : '';
    if (this.app.sim) this.app.sim.watch(key);
    this.renderChips();
    this.refresh();
  }

  refresh() {
    const sim = this.app.sim;
    if (!sim) return;
    const info = sim.keyInfo(this.key);
    this.info = info;
    this.app.ring.setKey(info);
    const held = {};
    for (const r of info.replicas) {
      held[r.node] = { values: r.versions.map((v) => v.value), hints: r.hints.flatMap((h) => h.versions.map((v) => `${v.value} for ${h.intended}`)) };
    }
    this.app.ring.setHeld(held);
    this.renderInfo(info);
    this.renderGraph(info);
    this.renderReplicas(info);
  }

  /**
   * The version graph of the key: every version seen at any replica since the key was
   * selected, in layers (a version sits one layer after the latest it descends from), with
   * → between layers and ∥ between concurrent versions of a layer. Descent is the dotted
   * version vectors' rule: v descends from u when v's past covers u's dot.
   */
  renderGraph(info) {
    const all = this.graph ?? (this.graph = new Map());
    for (const r of info.replicas) {
      for (const v of [...r.versions, ...r.hints.flatMap((h) => h.versions)]) if (!all.has(v.dot)) all.set(v.dot, v);
    }
    while (all.size > 16) all.delete(all.keys().next().value);
    const vs = [...all.values()];
    const covers = (past, dot) => {
      const m = /^\((.+),(\d+)\)$/.exec(dot);
      if (!m) return false;
      const e = new RegExp(`\\(${m[1].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')},(\\d+)\\)`).exec(past);
      return !!e && Number(e[1]) >= Number(m[2]);
    };
    const parents = new Map(vs.map((v) => [v.dot, vs.filter((u) => u !== v && covers(v.past, u.dot))]));
    const layer = new Map();
    const depth = (v, seen = new Set()) => {
      if (layer.has(v.dot)) return layer.get(v.dot);
      if (seen.has(v.dot)) return 0;
      seen.add(v.dot);
      const d = Math.max(-1, ...parents.get(v.dot).map((u) => depth(u, seen))) + 1;
      layer.set(v.dot, d);
      return d;
    };
    for (const v of vs) depth(v);
    const layers = [];
    for (const v of vs) (layers[layer.get(v.dot)] ??= []).push(v);
    const html = layers.filter(Boolean).map((l) => `<span class="vlayer">${l.map((v) => chip(v, ' vnode')).join('<span class="conc" title="concurrent: siblings">∥</span>')}</span>`).join('<span class="arrow" title="descends from">→</span>');
    const box = $('vgraph');
    if (box._html !== html) { box.innerHTML = html || '<span class="none">no version yet</span>'; box._html = html; }
  }

  renderInfo(info) {
    const owner = info.preflist[0];
    const nodes = this.app.state?.nodes ?? [];
    const status = (name) => nodes.find((n) => n.name === name);
    const tag = (name, rank) => {
      const st = status(name);
      const primary = rank < info.n;
      const down = st && !st.up;
      const label = primary ? `${rank + 1}${rank === 0 ? ' · coordinator' : ''}` : `f${rank - info.n + 1}`;
      return `<span class="tag ${primary ? 'primary' : 'fallback'}${down ? ' down' : ''}" title="${primary ? 'primary replica' : 'fallback: takes a write with a hint when a primary is unreachable'}${down ? ' (crashed)' : ''}">${label} ${esc(name)}</span>`;
    };
    const fallbacks = info.preflist.slice(info.n, info.n + 3);
    const overlap = info.r + info.w > info.n;
    const html = `
      <p><code>md5("${esc(info.key)}") = ${info.hash.slice(0, 8)}…</code> → ${(info.position * 100).toFixed(1)}% around the ring →
        partition <b>${info.partition}</b> of ${info.q}${owner ? `, owned by <b>${esc(owner)}</b>` : ''}.</p>
      <div class="pl" aria-label="Preference list">${info.preflist.slice(0, info.n).map(tag).join('')}${fallbacks.length ? ' <span class="small">then</span> ' : ''}${fallbacks.map((n, k) => tag(n, info.n + k)).join('')}</div>
      <p><b>N=${info.n}</b> replicas, a read waits for <b>R=${info.r}</b> replies, a write for <b>W=${info.w}</b> stores.
        ${overlap ? 'R + W > N: every read quorum overlaps the last write quorum.' : 'R + W ≤ N: a read may miss the last write (faster, less consistent).'}</p>`;
    const box = $('key-info');
    if (box._html !== html) { box.innerHTML = html; box._html = html; }
  }

  renderReplicas(info) {
    // Versions that were not at a replica at the last drawing arrive with a small animation.
    const before = this.shown ?? new Set();
    const shown = new Set();
    const rows = info.replicas.map((r) => {
      const role = r.role === 'primary' ? `primary ${r.rank + 1}` : r.role === 'fallback' ? `fallback f${r.rank - info.n + 1}` : 'not in the list';
      const vs = r.versions.length ? r.versions.map((v) => {
        const id = `${info.key}|${r.node}|${v.dot}`;
        shown.add(id);
        return chip(v, before.size && !before.has(id) ? ' new' : '');
      }).join('') : '<span class="none">nothing</span>';
      const hints = r.hints.map((h) => h.versions.map((v) => chip(v, ' hint').replace('</span>', ` <i>hint for ${esc(h.intended)}</i></span>`)).join('')).join('');
      return `<div class="replica${r.up ? '' : ' down'}" data-node="${esc(r.node)}">
        <div class="who">${esc(r.node)}<small>${role}${r.up ? '' : ' · crashed (disk)'}</small></div>
        <div class="versions">${vs}${hints}</div></div>`;
    });
    this.shown = shown;
    const html = rows.join('');
    const box = $('replicas');
    if (box._html !== html) {
      box.innerHTML = html;
      box._html = html;
      if (this.app.engine.speed < 1000) {
        for (const name of this.flashNext ?? []) box.querySelector(`.replica[data-node="${CSS.escape(name)}"]`)?.classList.add('flash');
      }
      this.flashNext = [];
    }
  }

  onEvents(evs) {
    let changed = false;
    for (const e of evs) {
      if (e.t === 'versions' && e.key === this.key) {
        // Every version that passes a replica goes into the graph, however briefly it lived.
        const g = this.graph ?? (this.graph = new Map());
        for (const v of [...e.incoming, ...e.after]) if (!g.has(v.dot)) g.set(v.dot, v);
        this.addMerge(e);
        (this.flashNext ??= []).push(e.node);
        changed = true;
      } else if (e.t === 'reply' && this.myReqs?.has(e.req)) {
        this.showResult(e);
      }
    }
    if (changed) this.mergesDirty = true;
  }

  addMerge(e) {
    const t = ((e.at - this.app.engine.t0) / 1000).toFixed(3);
    const list = (vs) => (vs.length ? vs.map((v) => chip(v)).join(' ') : '<span class="none">nothing</span>');
    let head;
    if (e.cause === 'write') {
      const v = e.incoming[0];
      head = v
        ? `<b>${esc(e.node)}</b> coordinates a write: new version ${chip(v)} — dot <code>${esc(paper(v.dot))}</code>, past <code>${esc(paper(v.past))}</code> (the client's context)`
        : `<b>${esc(e.node)}</b> changes its copy`;
    } else if (e.cause === 'restart' || e.cause === 'crash') {
      head = `<b>${esc(e.node)}</b> ${e.cause === 'crash' ? 'crashed: what is shown is its disk' : 'restarted from its disk'}`;
    } else if (e.cause === 'drop') {
      head = `<b>${esc(e.node)}</b> drops its copy (handed off to the key's replicas)`;
    } else {
      head = `<b>${esc(e.node)}</b> receives a <b>${esc(e.cause)}</b> message carrying ${list(e.incoming)}`;
    }
    const verdicts = e.verdicts.map((v) => {
      const [rel, outcome] = REL_TEXT[v.rel] ?? [v.rel, ''];
      return `<div><code>${esc(paper(v.incoming))}</code> <span class="rel ${v.rel}">${rel}</span> <code>${esc(paper(v.existing))}</code> → ${outcome}</div>`;
    }).join('');
    const hintNote = JSON.stringify(e.hints_before) !== JSON.stringify(e.hints_after)
      ? `<div>hinted copies now: ${e.hints_after.length ? e.hints_after.map((h) => `for ${esc(h.intended)}: ${list(h.versions)}`).join('; ') : 'none (delivered and dropped)'}</div>`
      : '';
    const after = `<div>now holds: ${list(e.after)}${e.after.length > 1 ? ' <b class="rel concurrent">siblings</b>' : ''}</div>`;
    this.merges.unshift(`<span class="t">${t}</span> ${head}${verdicts}${hintNote}${after}`);
    this.merges.length = Math.min(this.merges.length, 14);
  }

  renderMerges() {
    this.mergesDirty = false;
    $('merges').innerHTML = this.merges.map((m, i) => `<li${i === 0 ? ' class="new"' : ''}>${m}</li>`).join('');
  }

  renderQuorums(list) {
    const mine = list.filter((q) => q.key === this.key || q.key === '');
    const html = mine.map((q) => {
      const cells = Array.from({ length: q.needed }, (_, s) => `<i class="${s < q.got ? 'on' : ''}"></i>`).join('');
      const state = q.state === 'ok' ? 'ok' : q.state === 'bad' ? 'bad' : '';
      const what = q.kind === 'get' ? `get: ${q.got}/${q.needed} replies (R=${q.needed})` : `put: ${q.got}/${q.needed} stores (W=${q.needed})`;
      const hints = (q.hints ?? []).map(([n, h]) => `${n} stands in for ${h}`).join(', ');
      const outcome = q.state === 'ok' ? ' ✓ quorum reached' : q.state === 'bad' ? ' ✗ failed' : q.phase === 'read-repair window' ? ' — answered; waiting for late replies to repair' : '';
      return `<li>${esc(q.node)} <span class="qbar ${state}" role="img" aria-label="${q.got} of ${q.needed}">${cells}</span>${esc(what)}${q.req !== undefined ? ` <span class="small">request ${q.req}</span>` : ''}${outcome}${hints ? ` <span class="small">(${esc(hints)})</span>` : ''}</li>`;
    }).join('');
    const box = $('quorums');
    if (box._html !== html) { box.innerHTML = html || '<li class="none">none in flight</li>'; box._html = html; }
  }

  client(op) {
    const app = this.app;
    const node = Number($('client-node').value);
    const key = this.key;
    const value = $('client-value').value;
    const ctx = fromPaper($('client-context').value.trim());
    const req = app.act(op, (s) => (op === 'put' ? s.put(node, key, value, ctx || undefined)
      : op === 'get' ? s.get(node, key, undefined) : s.delete(node, key, ctx || undefined)));
    if (req === undefined) return;
    (this.myReqs ??= new Set()).add(req);
    $('client-result').className = 'result';
    $('client-result').textContent = `request ${req}: ${op} sent to ${app.state?.nodes[node]?.name ?? node}…`;
    // A node that cannot take the request (crashed) answers at once, before this point.
    const early = app.engine.recentReplies.get(req);
    if (early) { this.showResult(early); return; }
    if (!app.engine.playing) app.setPlay(true);
  }

  showResult(e) {
    const box = $('client-result');
    box.className = `result ${e.ok ? 'ok' : 'bad'}`;
    if (!e.ok) { box.textContent = `request ${e.req}: ${e.code} — ${e.error}`; return; }
    if (e.op === 'get') {
      this.lastContext.set(e.key, e.context);
      if (e.key === this.key) $('client-context').value = paper(e.context);
      box.innerHTML = e.versions.length === 0
        ? `request ${e.req}: not found (context [])`
        : `request ${e.req}: ${e.versions.length} version${e.versions.length > 1 ? 's — siblings: write back with this context to merge them' : ''}: ${e.versions.map((v) => chip(v)).join(' ')} · context <code>${esc(paper(e.context))}</code> (filled in above)`;
    } else {
      this.lastContext.set(e.key, e.context);
      if (e.key === this.key) $('client-context').value = paper(e.context);
      box.innerHTML = `request ${e.req}: stored with dot <code>${esc(paper(e.dot))}</code>, clock <code>${esc(paper(e.context))}</code> (${e.latency} ms)`;
    }
  }
}
