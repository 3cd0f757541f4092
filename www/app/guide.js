// The guide of the guided scenarios (scenarios.js holds their scripts): what a script can do
// (Ctx: a fresh cluster, captions, requests, faults, waits, findings) and the runner that
// runs one at a time, holds each caption for the learner (Continue, N, Enter; auto), goes
// back a step, and keeps the script in step when the timeline seeks (seekTo).

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

export class ScenarioError extends Error {}

/** What a scenario script can do. Every await lets virtual time run. */
class Ctx {
  constructor(runner, token) {
    this.runner = runner;
    this.app = runner.app;
    this.engine = runner.app.engine;
    this.token = token;
    this.stepNo = 0;
    this.results = {};
    this.pending = null;
    this.stepEvents = [];
    this.off = this.engine.on((evs) => {
      for (const e of evs) if (e.t !== 'frame' && e.t !== 'tick' && e.t !== 'clock') this.stepEvents.push(e);
    });
  }

  get sim() { return this.app.sim; }

  live() {
    if (this.token !== this.runner.token) {
      const e = new Error('cancelled');
      e.cancelled = true;
      throw e;
    }
  }

  /** A fresh cluster for this scenario, playing. */
  async reset(opts) {
    this.live();
    // Each scenario starts from the log's default filters (one may turn on what it explains).
    this.app.log.show('merkle', false);
    this.app.newCluster({ clients: 0, seed: 7, ...opts });
    // The first wait is registered before the clock runs: at full speed the engine would
    // otherwise run the new cluster for as much virtual time as fits in its first slice of
    // real time, so the scenario would start (and end) in a different state on a busy machine.
    const settled = this.sleep(150); // every node reserves its first dots on disk
    this.app.setPlay(true);
    await settled;
  }

  index(name) {
    const i = this.sim.state().nodes.findIndex((n) => n.name === name);
    if (i < 0) throw new ScenarioError(`no node ${name}`);
    return i;
  }

  /**
   * A new step: its caption is shown at once and its action is whatever the script awaits
   * next. The caption stays until that action has finished (the messages it sent have
   * landed) and the learner continues: the next step first waits for both.
   * `focus`: the nodes the caption names; the others are dimmed on the ring.
   */
  async say(html, focus = null) {
    this.live();
    await this.finishStep();
    this.stepNo++;
    this.stepEvents = [];
    this.pending = html;
    this.runner.caption(html, `step ${this.stepNo}`, focus);
    this.app.ring.markPartitions(this.marks ?? []);
    this.marks = null;
  }

  /** A caption about what is on screen now (no action): shown, settled, then read. */
  async pause(html, focus = null) {
    await this.say(html, focus);
    await this.finishStep();
  }

  /** End the current step: wait until what it set in motion has landed, then for the reader. */
  async finishStep() {
    if (this.pending === null || this.pending === undefined) return;
    const html = this.pending;
    this.pending = null;
    await this.settle();
    // Going back a step replays the script from the seed at full speed up to that step.
    const seek = this.runner.seeking;
    if (seek?.step && this.stepNo >= seek.step) {
      this.runner.landed();
      document.body.dataset.backTo = String(this.stepNo);
    }
    await this.runner.read(html, this.token, this.stepNo);
    this.live();
  }

  /** Wait until the messages of the page's requests that are in the air have landed (at most 1.5 s of virtual time). */
  async settle() {
    const end = this.engine.vt + 1_500;
    const inAir = () => [...this.engine.flying.values()].some((f) => !f.routine);
    while (inAir() && this.engine.vt < end) await this.sleep(10);
  }

  /** The events of the current step so far (for captions that describe them). */
  seen(test) { return (this.stepEvents ?? []).filter(test); }

  key(k) { this.app.inspector.setKey(k); }

  keyInfo(k) { return this.sim.keyInfo(k); }

  async sleep(ms) {
    this.live();
    await this.engine.sleep(ms);
    this.live();
  }

  async until(test, limitMs, what) {
    const end = this.engine.vt + limitMs;
    while (!test()) {
      if (this.engine.vt >= end) throw new ScenarioError(`gave up after ${limitMs} ms of virtual time waiting for ${what}`);
      await this.sleep(20);
    }
  }

  async request(make) {
    this.live();
    const req = this.runner.scripted(() => this.app.act('scenario', make));
    if (req === undefined) throw new ScenarioError('the simulator refused a request');
    this.app.inspector.myReqs?.add(req);
    const reply = await this.engine.reply(req);
    this.live();
    return reply;
  }

  async put(node, key, value, context, w) {
    const r = await this.request((s) => s.put(this.index(node), key, value, context || undefined, w));
    if (!r.ok) throw new ScenarioError(`put through ${node} failed: ${r.code} ${r.error}`);
    return r;
  }

  async get(node, key, r) {
    const rep = await this.request((s) => s.get(this.index(node), key, r));
    if (!rep.ok) throw new ScenarioError(`get through ${node} failed: ${rep.code} ${rep.error}`);
    return rep;
  }

  /** A fault is the action of the next step: the current one is finished (and read) first. */
  async fault(what, fn) {
    this.live();
    await this.finishStep();
    this.runner.scripted(() => this.app.act(what, fn));
  }

  crash(name) { return this.fault('crash', (s) => s.crash(this.index(name), false)); }

  restart(name) { return this.fault('restart', (s) => s.restart(this.index(name))); }

  partition(names) { return this.fault('partition', (s) => s.partition(Uint32Array.from(names.map((n) => this.index(n))))); }

  heal() { return this.fault('heal', (s) => s.heal()); }

  check(ok, what) {
    if (!ok) throw new ScenarioError(`expected ${what}`);
  }

  /** Record a finding for the tests and the final caption. */
  result(k, v) { this.results[k] = v; }

  /** The versions `node` holds of `key` (clocks), from the key inspector's data. */
  held(key, node) {
    const r = this.keyInfo(key).replicas.find((x) => x.node === node);
    return r ? r.versions.map((v) => `${v.value} ${v.clock}`) : [];
  }

  hints(key, node) {
    const r = this.keyInfo(key).replicas.find((x) => x.node === node);
    return r ? r.hints : [];
  }
}

/** Runs one scenario at a time; shows captions and the Continue button. */
export class ScenarioRunner {
  constructor(app) {
    this.app = app;
    this.token = 0;
    this.current = null;
    this.buttons = new Map();
    this.continue = null;
    $('btn-continue').addEventListener('click', () => this.continue?.());
  }

  renderList(list) {
    const box = $('scenario-list');
    box.innerHTML = '';
    for (const sc of list) {
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.scenario = sc.id;
      b.setAttribute('aria-pressed', 'false');
      b.innerHTML = `<span class="t">${esc(sc.title)}</span><span class="d">${esc(sc.blurb)}</span>`;
      b.title = sc.blurb;
      b.addEventListener('click', () => this.run(sc));
      box.appendChild(b);
      this.buttons.set(sc.id, b);
    }
  }

  caption(html, step, focus = null) {
    $('caption').classList.remove('done');
    $('caption-text').innerHTML = html;
    $('caption-step').textContent = this.current ? `${this.current.title} · ${step}` : step;
    document.body.dataset.step = `${step.replace(/\D/g, '')}:acting`;
    this.app.timeline.caption(html, this.current ? `${this.current.title} · ${step}` : step, Number(step.replace(/\D/g, '')) || 0);
    this.app.ring.setFocus(focus);
  }

  /** Auto mode's pause on a caption: reading time, by its words (`msPerWord`, 260 by default). */
  pauseFor(html) {
    const words = html.replace(/<[^>]+>/g, ' ').split(/\s+/).filter(Boolean).length;
    const per = this.msPerWord ?? 260;
    return Math.min(60 * per, Math.max(10 * per, words * per));
  }

  /**
   * Hold the clock for the reader until they continue (Continue, Enter or N); in auto mode
   * the hold ends by itself after a pause that grows with the caption's length.
   */
  read(html, token, stepNo) {
    if (this.app.engine.speed === Infinity) { this.app.timeline.captionRead(); return Promise.resolve(); }
    const ms = this.pauseFor(html);
    document.body.dataset.pauseMs = String(ms);
    this.app.engine.hold();
    // What the caption talks about is on screen while it is read (the panels are otherwise
    // redrawn a few times a second at high speed).
    this.app.flushViews();
    $('btn-continue').hidden = false;
    document.body.dataset.step = `${stepNo}:reading`;
    return new Promise((resolve) => {
      let timer = null;
      const done = () => {
        if (timer) clearTimeout(timer);
        this.continue = null;
        this.cancelRead = null;
        $('btn-continue').hidden = true;
        document.body.dataset.step = `${stepNo}:read`;
        this.app.timeline.captionRead();
        this.app.engine.release();
        resolve();
      };
      this.continue = done;
      this.cancelRead = done;
      const arm = () => {
        if (token !== this.token) { done(); return; }
        if ($('autoplay').checked && this.app.engine.playing) timer = setTimeout(done, ms);
        else timer = setTimeout(arm, 400);
      };
      arm();
    });
  }

  stop() {
    this.token++;
    if (this.seeking) { this.app.engine.setSpeed(this.seeking.speed); this.seeking = null; }
    this.app.engine.stopAt = null;
    this.app.engine.catchingUp = false;
    this.cancelRead?.();
    this.cancelRead = null;
    this.app.engine.cancelWaiters('stopped');
    for (const b of this.buttons.values()) b.setAttribute('aria-pressed', 'false');
    this.current = null;
    $('btn-continue').hidden = true;
    this.app.ring.setFocus(null);
    this.app.ring.markPartitions([]);
    delete document.body.dataset.step;
  }

  /**
   * Back one step of the running scenario: the script runs again from the seed at full speed
   * (the run is deterministic) and stops, held, on the caption before this one.
   */
  backStep() {
    const sc = this.current;
    const ctx = this.lastCtx;
    if (!sc || !ctx || ctx.stepNo <= 1 || this.learnerActed) return false;
    const speed = this.seeking?.speed ?? this.app.engine.speed;
    const reading = (document.body.dataset.step ?? '').endsWith(':reading');
    const step = reading ? ctx.stepNo - 1 : Math.max(1, ctx.stepNo - 1);
    this.run(sc, { backTo: step, speed });
    return true;
  }

  /** Run `fn`, an input of the script (not of the learner). */
  scripted(fn) {
    this.scripting = true;
    try { return fn(); } finally { this.scripting = false; }
  }

  /** An input came from the learner (a fault, a request, a drop) while a scenario runs: its run is no longer the script's alone. */
  noteInput() {
    if (this.current && !this.scripting) this.learnerActed = true;
  }

  /**
   * Go to event `k` of the running scenario (the timeline's slider): its script runs again
   * from the seed at full speed (the run is deterministic) and holds at k on the caption of
   * that moment, so the script stays in step. Where a caption was being read at k, the hold
   * is that step's reading and Continue goes on to the next step; in the middle of a step's
   * action, the clock stops at event k under the step's caption and Continue plays on.
   */
  seekTo(k) {
    const sc = this.current;
    // Once the learner acted on the run, only the journal replays it exactly: the script
    // steps aside (its captions stay on the timeline).
    if (!sc || this.learnerActed) return false;
    this.seekStart = performance.now();
    const said = this.app.timeline.captionAt(k);
    const speed = this.seeking?.speed ?? this.app.engine.speed;
    if (said && said.readAt === k && said.stepNo > 0) this.run(sc, { backTo: said.stepNo, speed });
    else this.run(sc, { toEvent: k, speed });
    return true;
  }

  /** The script run again has reached the point sought: back to the learner's speed. `acting`: stopped in a step's action. */
  landed(acting = false) {
    const seek = this.seeking;
    if (!seek) return;
    this.seeking = null;
    const engine = this.app.engine;
    engine.stopAt = null;
    engine.catchingUp = false;
    engine.setSpeed(seek.speed);
    document.body.dataset.seek = String(engine.position().at);
    if (this.seekStart) document.body.dataset.seekMs = (performance.now() - this.seekStart).toFixed(1);
    this.seekStart = null;
    if (!acting) return;
    this.app.setPlay(false);
    this.app.flushViews();
    $('btn-continue').hidden = false;
    this.continue = () => {
      this.continue = null;
      $('btn-continue').hidden = true;
      this.app.setPlay(true);
    };
  }

  /** A seek left the run: the script stops; its captions stay on the timeline. */
  detach() {
    if (!this.current) return;
    const title = this.current.title;
    this.stop();
    document.body.dataset.scenario = 'detached';
    this.detachedFrom = title;
  }

  async run(sc, { backTo = 0, toEvent = null, speed = null } = {}) {
    this.stop();
    const token = this.token;
    this.learnerActed = false;
    if (backTo > 0 || toEvent !== null) {
      this.seeking = { step: backTo, speed: speed ?? this.app.engine.speed };
      this.app.engine.setSpeed(Infinity);
      this.app.engine.catchingUp = true;
      $('caption-step').textContent = `${sc.title} · going to ${backTo > 0 ? `step ${backTo}` : `event ${toEvent}`}…`;
      if (backTo === 0) this.app.engine.stopAt = { event: toEvent, hit: () => { if (token === this.token) this.landed(true); } };
    }
    this.current = sc;
    const button = this.buttons.get(sc.id);
    button?.setAttribute('aria-pressed', 'true');
    button?.removeAttribute('data-state');
    document.body.dataset.scenario = `${sc.id}:running`;
    delete document.body.dataset.result;
    const ctx = new Ctx(this, token);
    this.lastCtx = ctx;
    // Keyboard users continue with Enter: focus leaves the scenario's button (whose Enter
    // would start the scenario again) for the caption.
    if (document.activeElement === button) $('caption').focus({ preventScroll: true });
    try {
      await sc.run(ctx);
      await ctx.finishStep();
      if (token !== this.token) return;
      this.landed();
      // Stop the clock on the final state, and show all of it.
      this.app.setPlay(false);
      this.app.flushViews();
      document.body.dataset.result = JSON.stringify(ctx.results);
      document.body.dataset.scenario = `${sc.id}:done`;
      button?.setAttribute('data-state', 'done');
      $('caption').classList.add('done');
      $('caption-step').textContent = `${sc.title} · finished`;
      $('caption-text').innerHTML = `<b>Finished.</b> ${ctx.finalHtml ?? ''} <span class="small">The clock is paused on the final state: press Play to keep going, try the faults, or pick another scenario.</span>`;
      this.current = null;
      $('btn-continue').hidden = true;
      this.app.ring.setFocus(null);
      document.body.dataset.step = 'finished';
    } catch (err) {
      if (err?.cancelled || token !== this.token) return;
      // A scenario stops when the cluster does not do what the script expects, which a fault
      // injected meanwhile can cause; anything else is a bug in the page.
      if (err instanceof ScenarioError) console.info(`scenario ${sc.id} stopped: ${err.message}`);
      else console.error(`scenario ${sc.id} failed`, err);
      document.body.dataset.scenario = `${sc.id}:failed`;
      $('caption-text').textContent = `This scenario stopped: ${err?.message ?? err}. A fault injected while it ran can do that; run it again to see it whole.`;
    } finally {
      ctx.off();
    }
  }
}
