// The teaching page: wires the simulator engine to the views (ring, log, key inspector,
// metrics), the controls (clock, faults, cluster setup), the guided scenarios and the live
// mode. Everything shown comes from the real core (src/core) run by src/sim through the
// wasm binding src/wasm/sim.rs.

import init, { SimCluster } from '/pkg/teaching/ringlet.js';
import { Engine } from './engine.js';
import { RingView, kindColor } from './ring.js';
import { LogView } from './log.js';
import { Inspector } from './inspector.js';
import { MetricsView } from './metrics.js';
import { SCENARIOS } from './scenarios.js';
import { ScenarioRunner } from './guide.js';
import { LiveMode } from './live.js';
import { TimelineView } from './timeline.js';
import { MerkleView } from './merkle.js';
import { bindMoreMenu, rovingToolbar, arrowGroup } from './keyboard.js';

const $ = (id) => document.getElementById(id);

const DEFAULTS = { nodes: 5, q: 32, n: 3, r: 2, w: 2, clients: 2, seed: 1 };

class App {
  constructor() {
    this.engine = new Engine(SimCluster);
    this.selectedKey = 'cart/ada';
    this.selectedNode = 0;
    this.state = null;
    this.ringSig = '';
    this.reqs = new Map(); // req -> { workload, key, op, node }
    this.quorums = new Map(); // node/kind/rid -> counter
    this.lastStateAt = 0;
    this.lastMetricsAt = 0;
    this.lastKeyAt = 0;
    this.stateDirty = true;
    this.keyDirty = true;

    this.ring = new RingView($('ring'), $('flights'), {
      bg: $('ring-bg'),
      onSelectNode: (i) => this.selectNode(i),
      onNodeMenu: (i, g) => this.nodeMenu(i, g),
      onNodeAction: (i, action) => this.nodeAction(i, action),
      onHoverFlight: (f, ev) => this.tooltip(f, ev),
      // A click on a message in flight drops it (the log line says so).
      onPickFlight: (f) => this.dropMessage(f),
    });
    this.log = new LogView($('log'), this);
    this.inspector = new Inspector(this);
    this.metrics = new MetricsView(this);
    this.scenarios = new ScenarioRunner(this);
    this.timeline = new TimelineView(this);
    this.merkle = new MerkleView(this);
    this.engine.on((evs) => this.onEvents(evs));
    this.bindControls();
    this.renderLegend();
  }

  get sim() { return this.engine.sim; }

  /** A fresh cluster with `opts` (defaults filled in). */
  newCluster(opts) {
    const o = { ...DEFAULTS, ...opts };
    const options = {
      seed: Number(o.seed) || 0,
      n: o.n, r: o.r, w: o.w, q: o.q,
      clients: o.clients,
      ...(o.names ? { names: o.names } : { nodes: o.nodes }),
      ...(o.readRepair === false ? { readRepair: false } : {}),
      ...(o.antiEntropyMs !== undefined ? { antiEntropyMs: o.antiEntropyMs } : {}),
      ...(o.hints === false ? { hints: false } : {}),
      ...(o.reconnectNotices === false ? { reconnectNotices: false } : {}),
      ...(o.minLatencyMs ? { minLatencyMs: o.minLatencyMs, maxLatencyMs: o.maxLatencyMs } : {}),
      ...(o.thinkMs ? { thinkMs: o.thinkMs } : {}),
    };
    this.engine.reset(options);
    this.selectNode(Math.min(this.selectedNode, (o.names?.length ?? o.nodes) - 1));
    this.syncSetupForm(o);
    this.inspector.setKey(o.key ?? this.selectedKey);
    if (!this.scenarios.current) this.idleCaption();
  }

  /** The caption when no scenario runs: what the reader is looking at. */
  idleCaption() {
    const nodes = this.sim.state().nodes.map((n) => n.name);
    const q = this.sim.state().q;
    const who = nodes.length > 4 ? `${nodes[0]}–${nodes[nodes.length - 1]}` : nodes.join(', ');
    const clients = this.engine.options.clients ?? 0;
    $('caption').classList.remove('done');
    $('caption-step').textContent = '';
    $('caption-text').innerHTML = `${nodes.length} nodes (${who}) share a ring of ${q} partitions, each coloured by the node that owns it. The key
      <code>${this.selectedKey.replace(/[&<>]/g, '')}</code> lives on the numbered nodes. Press <b>Play</b> to watch ${clients ? `${clients} client${clients > 1 ? 's' : ''} read and write through the cluster` : 'the nodes gossip (add clients in <i>Cluster</i>)'}, or start with a guided scenario — <i>The basics</i> first.`;
  }

  onEvents(evs) {
    for (const e of evs) {
      switch (e.t) {
        case 'reset':
          if (!e.seek) this.timeline.reset();
          this.ring.clearFlights();
          this.ringSig = '';
          this.reqs.clear();
          this.quorums.clear();
          this.log.reset();
          this.inspector.reset();
          this.metrics.reset();
          this.merkle.reset();
          this.stateDirty = true;
          this.keyDirty = true;
          break;
        case 'send': this.ring.addFlight(e); break;
        case 'deliver': this.ring.land(e, false); break;
        case 'lost': if (e.by_you) this.ring.cutFlight(e); else this.ring.land(e, true); break;
        case 'request':
          this.reqs.set(e.req, { workload: e.workload, key: e.key, op: e.op, node: e.node });
          break;
        case 'reply': this.finishQuorums(e); this.keyDirty = true; break;
        case 'quorum': this.onQuorum(e); break;
        case 'versions': if (e.key === this.selectedKey) this.keyDirty = true; this.stateDirty = true; break;
        case 'event': case 'fault': this.stateDirty = true; this.keyDirty = true; break;
        case 'tick': this.stateDirty = true; this.keyDirty = true; break;
        default: break;
      }
    }
    this.log.add(evs);
    this.inspector.onEvents(evs);
    this.merkle.onEvents(evs);
    const frame = evs.length === 1 && evs[0].t === 'frame';
    if (frame) this.onFrame();
  }

  onQuorum(e) {
    const id = `${e.node}/${e.kind}/${e.rid}`;
    if (e.done) {
      const q = this.quorums.get(id);
      if (q && q.state === 'open') { q.state = 'ended'; q.endedAt = performance.now(); }
    } else {
      const q = this.quorums.get(id) ?? { id, state: 'open' };
      Object.assign(q, e, { state: q.state === 'ok' || q.state === 'bad' ? q.state : 'open' });
      if (e.phase === 'read-repair window') q.state = 'ok';
      this.quorums.set(id, q);
    }
    this.quorumsDirty = true;
  }

  finishQuorums(reply) {
    for (const q of this.quorums.values()) {
      if (q.req !== reply.req) continue;
      q.state = reply.ok ? 'ok' : 'bad';
      if (reply.ok) q.got = Math.max(q.got, q.needed);
      q.endedAt = performance.now();
    }
    this.quorumsDirty = true;
  }

  /** Quorum counters worth drawing: the page's own requests and those on the selected key. */
  visibleQuorums() {
    const now = performance.now();
    const out = [];
    for (const [id, q] of this.quorums) {
      const linger = this.engine.speed <= 100 ? 2500 : this.engine.speed <= 400 ? 1200 : 400;
      if (q.state !== 'open' && q.endedAt && now - q.endedAt > linger) { this.quorums.delete(id); continue; }
      if (q.kind === 'forward') continue;
      const info = this.reqs.get(q.req);
      const mine = info ? !info.workload : false;
      if (mine || q.key === this.selectedKey) out.push(q);
    }
    return out;
  }

  onFrame() {
    const now = performance.now();
    if (!this.sim) return;
    // A scenario's script run again to a point: the panels are drawn once it is there.
    if (this.engine.catchingUp) return;
    // Panels are read, not watched: at high speed they are redrawn a few times a second.
    const calm = this.engine.speed < 1000;
    if ((this.stateDirty && now - this.lastStateAt > (calm ? 60 : 250)) || now - this.lastStateAt > 400) this.refreshState(now);
    if (this.keyDirty && now - this.lastKeyAt > (calm ? 120 : 300)) { this.inspector.refresh(); this.keyDirty = false; this.lastKeyAt = now; }
    if (this.inspector.mergesDirty && (calm || now - (this.lastMergesAt ?? 0) > 300)) { this.inspector.renderMerges(); this.lastMergesAt = now; }
    if (now - this.lastMetricsAt > 1000) { this.metrics.render(); this.lastMetricsAt = now; }
    if ((this.quorumsDirty || this.quorums.size) && (calm || now - (this.lastQuorumAt ?? 0) > 250)) {
      this.lastQuorumAt = now;
      const vis = this.visibleQuorums();
      this.ring.setQuorums(vis);
      this.inspector.renderQuorums(vis);
      this.quorumsDirty = false;
    }
    if (calm || now - (this.lastLogAt ?? 0) > 200) { this.log.flush(); this.lastLogAt = now; }
    this.merkle.render();
    const s = this.state;
    this.ring.draw(this.engine.vt, s ? (s.min_latency_ms + s.max_latency_ms) / 2 : 20);
    $('clock').textContent = `${this.engine.seconds.toFixed(3)} s`;
    this.timeline.sync();
  }

  /** Bring every panel up to date now (a scenario's end, a test). */
  flushViews() {
    if (!this.sim) return;
    this.refreshState();
    this.inspector.refresh();
    this.inspector.renderMerges();
    this.log.flush();
    this.merkle.render();
    this.metrics.render();
    const vis = this.visibleQuorums();
    this.ring.setQuorums(vis);
    this.inspector.renderQuorums(vis);
  }

  refreshState(now = performance.now()) {
    this.stateDirty = false;
    this.lastStateAt = now;
    const s = this.sim.state();
    this.state = s;
    this.ring.setNodes(s.nodes);
    const sig = `${s.ring_epoch}:${s.ring_hash}`;
    if (sig !== this.ringSig) {
      this.ringSig = sig;
      this.ring.setRing(this.sim.ring());
      this.keyDirty = true;
    }
    this.syncNodeControls(s);
    document.body.dataset.nodes = String(s.nodes.length);
  }

  selectNode(i) {
    this.selectedNode = i;
    this.ring.selectNode(i);
    if ($('fault-node').value !== String(i)) $('fault-node').value = String(i);
    if ($('client-node').value !== String(i)) $('client-node').value = String(i);
  }

  syncNodeControls(s) {
    const names = s.nodes.map((n) => `${n.name}${n.up ? '' : ' (crashed)'}${n.status !== 'valid' && n.up ? ` (${n.status})` : ''}`);
    for (const id of ['fault-node', 'client-node']) {
      const sel = $(id);
      const have = [...sel.options].map((o) => o.textContent).join('|');
      if (have !== names.join('|')) {
        sel.innerHTML = names.map((n, i) => `<option value="${i}">${n}</option>`).join('');
        sel.value = String(Math.min(this.selectedNode, names.length - 1));
      }
    }
    this.syncNodeMenu();
    const box = $('side-buttons');
    if (box.childElementCount !== s.nodes.length || [...box.children].some((b, i) => b.textContent !== s.nodes[i].name)) {
      box.innerHTML = '';
      s.nodes.forEach((n, i) => {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = n.name;
        b.dataset.index = String(i);
        b.setAttribute('aria-pressed', n.side === 1 ? 'true' : 'false');
        b.addEventListener('click', () => b.setAttribute('aria-pressed', b.getAttribute('aria-pressed') === 'true' ? 'false' : 'true'));
        box.appendChild(b);
      });
    }
    $('btn-heal').disabled = !s.partitioned;
    const sel = s.nodes[this.selectedNode];
    if (sel) {
      $('btn-crash').disabled = !sel.up;
      $('btn-restart').disabled = sel.up;
      $('btn-leave').disabled = !sel.up || sel.status !== 'valid';
      $('btn-remove').disabled = sel.up || sel.status === 'down';
    }
  }

  /** Act on node `i` from the picture: crash, restart, cut it off (or heal), put or get through it. */
  nodeAction(i, action) {
    this.selectNode(i);
    const n = this.sim?.state().nodes[i];
    if (!n) return;
    switch (action) {
      case 'crash':
        if (n.up) this.act('crash', (s) => s.crash(i, $('lose-unpersisted').checked));
        else this.log.note(`${n.name} is already crashed: R restarts it`);
        break;
      case 'restart':
        if (!n.up) this.act('restart', (s) => s.restart(i));
        else this.log.note(`${n.name} is running: C crashes it`);
        break;
      case 'cut':
        if (n.side === 1) this.act('heal', (s) => s.heal());
        else this.act('partition', (s) => s.partition(Uint32Array.from([i])));
        break;
      case 'put': case 'get':
        $('client-node').value = String(i);
        this.inspector.client(action);
        break;
      default: break;
    }
    this.refreshState();
    this.syncNodeMenu();
  }

  /**
   * Drop message `f` in flight, as a lossy network would (a click on its dot, or D). The
   * drop is one of the run's inputs: going back over it and forward again drops it again.
   */
  dropMessage(f) {
    if (!f || f.arrives == null || !this.engine.flying.has(f.id)) { this.log.note('that message is no longer in flight'); return false; }
    const ok = this.act('drop', (s) => s.dropMessage(f.id));
    if (ok) this.log.reveal(f.id);
    this.tooltip(null);
    document.body.dataset.dropped = String(f.id);
    return !!ok;
  }

  /** D: drop the message under the pointer, else the next one to arrive (a request's first). */
  dropNext() {
    const flying = [...this.engine.flying.values()].filter((f) => f.arrives != null);
    const hovered = this.ring.hovered && this.engine.flying.has(this.ring.hovered.id) ? this.ring.hovered : null;
    const pool = flying.some((f) => !f.routine) ? flying.filter((f) => !f.routine) : flying;
    const next = hovered ?? pool.sort((a, b) => a.arrives - b.arrives || a.id - b.id)[0];
    if (!next) { this.log.note('no message in flight to drop'); return; }
    this.dropMessage(next);
  }

  /** The node's actions, beside it on the ring (a click, or Enter on a focused node). */
  nodeMenu(i, g) {
    const menu = $('node-menu');
    const wrap = $('ring-wrap').getBoundingClientRect();
    const r = g.getBoundingClientRect();
    menu.hidden = false;
    menu.dataset.node = String(i);
    const left = Math.min(Math.max(0, r.right - wrap.left + 6), wrap.width - 150);
    menu.style.left = `${left}px`;
    menu.style.top = `${Math.max(0, r.top - wrap.top)}px`;
    this.syncNodeMenu();
    if (document.activeElement === g) menu.querySelector('button:not([hidden])')?.focus();
  }

  syncNodeMenu() {
    const menu = $('node-menu');
    if (menu.hidden) return;
    const i = Number(menu.dataset.node);
    const n = this.sim?.state().nodes[i];
    if (!n) { menu.hidden = true; return; }
    $('node-menu-name').textContent = n.name;
    menu.querySelector('[data-action="crash"]').hidden = !n.up;
    menu.querySelector('[data-action="restart"]').hidden = n.up;
    menu.querySelector('[data-action="cut"]').firstChild.textContent = n.side === 1 ? 'Heal ' : 'Cut off ';
  }

  closeNodeMenu() {
    const menu = $('node-menu');
    if (menu.hidden) return;
    menu.hidden = true;
    this.ring.focusNode(Number(menu.dataset.node));
  }

  tooltip(f, ev) {
    const tip = $('tooltip');
    if (!f || !ev) { tip.hidden = true; return; }
    const wrap = $('ring-wrap').getBoundingClientRect();
    tip.hidden = false;
    tip.style.left = `${ev.clientX - wrap.left + 12}px`;
    tip.style.top = `${ev.clientY - wrap.top + 12}px`;
    tip.textContent = `${f.kind} ${f.from} → ${f.to}${f.key ? ` · ${f.key}` : ''} · ${f.detail} — click (or D) to drop it`;
  }

  /** Run a user action on the simulator, reporting a refusal in the log instead of throwing. */
  act(what, fn) {
    if (!this.sim) return undefined;
    this.scenarios.noteInput();
    try {
      const r = fn(this.sim);
      this.stateDirty = true;
      this.keyDirty = true;
      this.engine.dispatch(this.sim.runUntil(this.sim.now()));
      return r;
    } catch (err) {
      this.log.note(`${what}: ${err?.message ?? err}`);
      return undefined;
    }
  }

  bindControls() {
    const play = $('btn-play');
    const setPlay = (on) => {
      this.engine.setPlaying(on);
      play.setAttribute('aria-pressed', on ? 'true' : 'false');
      play.textContent = on ? '❚❚ Pause' : '▶ Play';
    };
    this.setPlay = setPlay;
    play.addEventListener('click', () => setPlay(!this.engine.playing));
    $('btn-step').addEventListener('click', () => { setPlay(false); this.engine.step(); });
    $('speed').addEventListener('change', (ev) => {
      const v = ev.target.value;
      this.engine.setSpeed(v === 'max' ? Infinity : Number(v));
    });
    $('skip-quiet').addEventListener('change', (ev) => { this.engine.skipQuiet = ev.target.checked; });
    document.addEventListener('keydown', (ev) => {
      const tag = ev.target?.tagName;
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      const typing = ['INPUT', 'SELECT', 'TEXTAREA'].includes(tag) && ev.target.type !== 'checkbox' && ev.target.type !== 'range';
      if (typing) return;
      const onControl = ['BUTTON', 'INPUT', 'SELECT'].includes(tag) || ev.target?.closest?.('.node');
      const key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
      // N continues a guided step from anywhere; Enter too, unless it presses a focused control.
      if ((key === 'n' || (key === 'Enter' && !onControl)) && this.scenarios.continue) { ev.preventDefault(); this.scenarios.continue(); return; }
      if (key === 'b') { ev.preventDefault(); this.timeline.back(); return; }
      if (key === 'd') { ev.preventDefault(); this.dropNext(); return; }
      if (onControl) return;
      if (key === ' ' || key === 'k') { ev.preventDefault(); setPlay(!this.engine.playing); }
      if (key === '.' || key === 's') { setPlay(false); this.engine.step(); }
    });

    // A notation's "?" opens the glossary at its entry.
    document.addEventListener('click', (ev) => {
      const a = ev.target.closest?.('a[href^="#g-"]');
      if (!a) return;
      ev.preventDefault();
      $('glossary').open = true;
      const dt = document.getElementById(a.getAttribute('href').slice(1));
      dt?.scrollIntoView({ block: 'center' });
      dt?.classList.add('flash');
      setTimeout(() => dt?.classList.remove('flash'), 1500);
    });

    // The node's actions on the ring.
    $('node-menu').addEventListener('click', (ev) => {
      const b = ev.target.closest('button');
      if (!b) return;
      ev.stopPropagation();
      if (b.dataset.action === 'close') { this.closeNodeMenu(); return; }
      this.nodeAction(Number($('node-menu').dataset.node), b.dataset.action);
    });
    $('node-menu').addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') { ev.preventDefault(); this.closeNodeMenu(); }
    });
    $('ring-wrap').addEventListener('click', (ev) => { if (!ev.target.closest('#node-menu, .node')) $('node-menu').hidden = true; });
    rovingToolbar(document.querySelector('.toolbar'), ['timeline']);
    arrowGroup($('node-menu'));
    // "⋯": every other control of the page, section by section (keyboard.js).
    bindMoreMenu();

    // Faults.
    $('fault-node').addEventListener('change', (ev) => this.selectNode(Number(ev.target.value)));
    $('client-node').addEventListener('change', (ev) => this.selectNode(Number(ev.target.value)));
    $('btn-crash').addEventListener('click', () => this.act('crash', (s) => s.crash(this.selectedNode, $('lose-unpersisted').checked)));
    $('btn-restart').addEventListener('click', () => this.act('restart', (s) => s.restart(this.selectedNode)));
    $('btn-cut').addEventListener('click', () => {
      const group = [...$('side-buttons').children].filter((b) => b.getAttribute('aria-pressed') === 'true').map((b) => Number(b.dataset.index));
      if (!group.length || group.length === this.state?.nodes.length) { this.log.note('pick the nodes of one side first (not all of them)'); return; }
      this.act('partition', (s) => s.partition(Uint32Array.from(group)));
    });
    $('btn-heal').addEventListener('click', () => this.act('heal', (s) => s.heal()));
    const lat = $('latency');
    const showLat = () => {
      const max = Number(lat.value);
      const min = Math.max(1, Math.round(max / 3));
      $('latency-out').textContent = `${min}–${max} ms`;
      return [min, max];
    };
    lat.addEventListener('input', showLat);
    lat.addEventListener('change', () => { const [min, max] = showLat(); this.act('latency', (s) => s.setLatency(min, max)); });
    const loss = $('loss');
    loss.addEventListener('input', () => { $('loss-out').textContent = `${loss.value}%`; });
    loss.addEventListener('change', () => this.act('loss', (s) => s.setLoss(Number(loss.value) / 100)));
    $('btn-join').addEventListener('click', () => {
      const i = this.act('join', (s) => s.join(1));
      if (i !== undefined) this.selectNode(i);
    });
    $('btn-leave').addEventListener('click', () => this.act('leave', (s) => s.leave(this.selectedNode)));
    $('btn-remove').addEventListener('click', () => this.act('remove', (s) => s.remove(this.selectedNode)));

    // Cluster setup.
    const nodes = $('set-nodes');
    nodes.innerHTML = Array.from({ length: 14 }, (_, k) => `<option>${k + 3}</option>`).join('');
    const fillNRW = () => {
      const count = Number(nodes.value);
      const n = $('set-n'); const keepN = Number(n.value) || 3;
      n.innerHTML = Array.from({ length: Math.min(5, count) }, (_, k) => `<option>${k + 1}</option>`).join('');
      n.value = String(Math.min(keepN, count, 5));
      for (const id of ['set-r', 'set-w']) {
        const sel = $(id); const keep = Number(sel.value) || 2;
        sel.innerHTML = Array.from({ length: Number(n.value) }, (_, k) => `<option>${k + 1}</option>`).join('');
        sel.value = String(Math.min(keep, Number(n.value)));
      }
    };
    this.fillNRW = fillNRW;
    nodes.addEventListener('change', fillNRW);
    // The workload is not part of the cluster: more or fewer clients apply at once.
    $('set-clients').addEventListener('change', (ev) => this.act('clients', (s) => s.setClients(Number(ev.target.value), 800)));
    $('set-n').addEventListener('change', fillNRW);
    $('setup').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.scenarios.stop();
      this.newCluster({
        nodes: Number(nodes.value), q: Number($('set-q').value), n: Number($('set-n').value),
        r: Number($('set-r').value), w: Number($('set-w').value), clients: Number($('set-clients').value),
        seed: Number($('set-seed').value),
      });
    });
    $('mode-sim').addEventListener('click', () => this.mode('sim'));
    $('mode-live').addEventListener('click', () => this.mode('live'));
  }

  syncSetupForm(o) {
    $('set-nodes').value = String(o.names ? o.names.length : o.nodes);
    $('set-q').value = String(o.q);
    this.fillNRW();
    $('set-n').value = String(o.n);
    this.fillNRW();
    $('set-r').value = String(o.r);
    $('set-w').value = String(o.w);
    $('set-clients').value = String(o.clients);
    $('set-seed').value = String(o.seed);
  }

  mode(which) {
    const live = which === 'live';
    $('sim-view').hidden = live;
    $('live-view').hidden = !live;
    $('mode-sim').setAttribute('aria-pressed', String(!live));
    $('mode-live').setAttribute('aria-pressed', String(live));
    if (live) { this.setPlay(false); this.live ??= new LiveMode(); }
    history.replaceState(null, '', live ? '#live' : '#');
  }

  renderLegend() {
    const kinds = [['put', 'put'], ['put-ack', 'ack'], ['get', 'get'], ['get-reply', 'reply'], ['forward', 'forward'],
      ['forward-cancel', 'forward accepted / cancelled (at most once)'], ['refused', 'refused (the node left)'],
      ['put-hinted', 'hinted put / hint delivery'], ['read-repair', 'read repair'], ['ae-repair', 'repair by anti-entropy'], ['merkle', 'Merkle'], ['transfer', 'transfer'], ['gossip', 'routine: gossip, probes, Merkle finding nothing (small dots)']];
    $('legend').innerHTML = kinds.map(([k, label]) => `<span class="sw" style="background:${kindColor(k)}"></span>${label}`).join('')
      + '<br>Keys: <kbd>N</kbd> or <kbd>Enter</kbd> continue · <kbd>B</kbd> back (the scenario\'s previous step, else one event) · <kbd>Space</kbd> play/pause · <kbd>.</kbd> one step · <kbd>D</kbd> drop a message (the one under the pointer, else the next to arrive; or click it) · <kbd>Tab</kbd> to a node, <kbd>Enter</kbd> its actions';
  }
}

async function main() {
  await init({ module_or_path: '/pkg/teaching/ringlet_bg.wasm' });
  const app = new App();
  window.ringletPage = app;
  $('loading').hidden = true;
  $('sim-view').hidden = false;
  app.newCluster({ ...DEFAULTS });
  app.scenarios.renderList(SCENARIOS);
  if (location.hash === '#live') app.mode('live');
  document.body.dataset.ready = 'true';
}

main().catch((err) => {
  console.error(err);
  $('loading').textContent = `Could not start the page: ${err?.message ?? err}`;
});
