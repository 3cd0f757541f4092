// The page's clock around the wasm SimCluster (src/wasm/sim.rs): virtual time advances with
// the animation frames at the chosen speed, and every event the simulator reports is handed
// to the views. Scenarios await replies and virtual delays; the engine stops the clock at
// the exact virtual time a scenario is waiting for, so a scenario's requests always happen
// at the same virtual times and a seed replays the same run.

/** Message kinds by role, for colours and filters. */
export const CLIENT_KINDS = new Set(['put', 'put-hinted', 'put-ack', 'get', 'get-reply', 'forward', 'forward-reply',
  'forward-accepted', 'forward-cancel', 'forward-cancelled', 'refused', 'get-reply-pending']);
export const REPAIR_KINDS = new Set(['read-repair', 'ae-repair', 'hint-delivery', 'hint-ack', 'transfer', 'transfer-ack', 'merkle',
  'transfer-query', 'transfer-done']);
export const isBackground = (kind) => !CLIENT_KINDS.has(kind) && !REPAIR_KINDS.has(kind);
/** A message that is routine upkeep: gossip, probes, and Merkle exchanges that find nothing. */
export const isRoutine = (e) => isBackground(e.kind) || (e.kind === 'merkle' && !/differ|digest/.test(e.detail ?? ''));

/** Resolves in a task of its own, after every pending microtask, without a timer's delay. */
const channel = new MessageChannel();
const waiting = [];
channel.port1.onmessage = () => waiting.shift()?.();
function nextTask() {
  return new Promise((r) => { waiting.push(r); channel.port2.postMessage(0); });
}

export class Engine {
  constructor(SimCluster) {
    this.SimCluster = SimCluster;
    this.sim = null;
    this.options = null;
    this.listeners = new Set();
    this.speed = 100; // virtual ms per real second; Infinity = as fast as possible
    this.skipQuiet = true;
    this.playing = false;
    this.holds = 0; // scenario captions hold the clock
    this.vt = 0;
    this.t0 = 0;
    this.timeWaiters = []; // { at, resolve }
    this.eventWaiters = []; // { test, resolve, reject }
    this.flying = new Map(); // id -> send event, for the "quiet" test
    this.busyRequests = new Set();
    this.recentReplies = new Map(); // req -> reply event (a reply may come before anyone waits)
    this.generation = 0;
    this.lastFrame = 0;
    this.frameWork = []; // ms of JS work per frame (quality measurement)
    this.frameGaps = [];
    this.fastRunning = false;
    this.catchingUp = false; // a scenario's script is run again to a point (scenarios seekTo, backStep)
    this.stopAt = null; // { event, hit }: stop advancing at this event count (scenarios.js, seekTo)
    this.loop = this.loop.bind(this);
    requestAnimationFrame(this.loop);
  }

  on(fn) { this.listeners.add(fn); return () => this.listeners.delete(fn); }

  /** A new cluster. Cancels whatever a scenario was waiting for. */
  reset(options) {
    this.cancelWaiters('reset');
    if (this.sim) this.sim.free();
    this.options = { ...options };
    this.sim = new this.SimCluster(this.options);
    this.t0 = this.sim.now();
    this.vt = this.t0;
    this.flying.clear();
    this.busyRequests.clear();
    this.recentReplies.clear();
    this.generation++;
    this.emitAll([{ t: 'reset', at: this.t0, options: this.options }]);
    this.dispatch(this.sim.runUntil(this.t0));
  }

  cancelWaiters(reason) {
    const err = new Error(`cancelled: ${reason}`);
    err.cancelled = true;
    for (const w of this.eventWaiters) w.reject(err);
    for (const w of this.timeWaiters) w.reject(err);
    this.eventWaiters = [];
    this.timeWaiters = [];
  }

  /** Seconds of virtual time since the cluster started. */
  get seconds() { return (this.vt - this.t0) / 1000; }

  setPlaying(on) {
    this.playing = on;
    this.emitAll([{ t: 'clock', playing: on }]);
    if (on && this.speed === Infinity) this.fastLoop();
  }

  setSpeed(v) {
    this.speed = v;
    if (this.playing && v === Infinity) this.fastLoop();
  }

  hold() { this.holds++; }
  release() { this.holds = Math.max(0, this.holds - 1); }

  /** The position on the timeline: simulator events run so far, and the run's end. */
  position() {
    return this.sim ? { at: this.sim.eventCount(), end: this.sim.timelineEnd() } : { at: 0, end: 0 };
  }

  /**
   * Go to event `k` of this run, back or forward: the simulator replays the run from its
   * seed with the page's inputs at their points (src/wasm/sim/timeline.rs). The views start
   * again from the last events before `k`, so what was in the air is drawn in the air.
   */
  seek(k) {
    if (!this.sim) return 0;
    this.cancelWaiters('seek');
    const start = performance.now();
    const evs = this.sim.rewind(Math.max(0, Math.round(k)), 400);
    this.vt = this.sim.now();
    this.flying.clear();
    this.busyRequests.clear();
    this.recentReplies.clear();
    this.emitAll([{ t: 'reset', at: this.t0, options: this.options, seek: true }]);
    this.dispatch(evs);
    this.emitAll([{ t: 'tick' }]);
    this.lastSeekMs = performance.now() - start;
    return this.lastSeekMs;
  }

  /** Run exactly one simulator event (or a client's request). */
  step() {
    if (!this.sim) return;
    const evs = this.sim.step();
    this.vt = this.sim.now();
    this.dispatch(evs);
    this.emitAll([{ t: 'tick' }]);
  }

  // ---- scenario helpers ---------------------------------------------------------------------

  /** Resolves once `test(event)` holds for an event the simulator reports. */
  waitEvent(test, what = 'an event') {
    return new Promise((resolve, reject) => this.eventWaiters.push({ test, resolve, reject, what }));
  }

  /** Resolves after `ms` of virtual time. */
  sleep(ms) {
    const at = this.vt + ms;
    return new Promise((resolve, reject) => this.timeWaiters.push({ at, resolve, reject }));
  }

  /** The reply event of request `req`. */
  reply(req) {
    const done = this.recentReplies.get(req);
    if (done) return Promise.resolve(done);
    return this.waitEvent((e) => e.t === 'reply' && e.req === req, `the reply to request ${req}`);
  }

  // ---- the clock ----------------------------------------------------------------------------

  loop(ts) {
    requestAnimationFrame(this.loop);
    const gap = this.lastFrame ? ts - this.lastFrame : 16;
    this.lastFrame = ts;
    const start = performance.now();
    if (this.sim && this.playing && this.holds === 0 && this.speed !== Infinity) {
      let rate = this.speed;
      if (this.skipQuiet && this.quiet()) rate = Math.max(rate * 15, 1500);
      const dt = Math.min(gap, 100);
      this.advance(this.vt + (dt * rate) / 1000);
    }
    this.emitAll([{ t: 'frame', ts }]);
    this.frameWork.push(performance.now() - start);
    this.frameGaps.push(gap);
    if (this.frameWork.length > 2000) { this.frameWork.splice(0, 1000); this.frameGaps.splice(0, 1000); }
  }

  /** Nothing a client is waiting for is in the air. */
  quiet() {
    if (this.busyRequests.size > 0) return false;
    for (const f of this.flying.values()) if (!f.routine) return false;
    return true;
  }

  /** As fast as possible, yielding to the page (and to scenario continuations) often. */
  async fastLoop() {
    if (this.fastRunning) return;
    this.fastRunning = true;
    try {
      while (this.sim && this.playing && this.speed === Infinity) {
        if (this.holds > 0) { await new Promise((r) => setTimeout(r, 10)); continue; }
        // Slices of 12 ms keep the page drawing; a scenario's script run again to a point
        // (`catchingUp`) takes longer ones: the learner waits for that point, not for frames.
        const until = performance.now() + (this.catchingUp ? 100 : 12);
        let yielded = false;
        while (performance.now() < until && this.holds === 0 && this.playing) {
          if (this.advance(this.vt + 250)) { yielded = true; break; }
        }
        // A scenario's continuation: a message-channel task runs right after it (a timer
        // would wait at least 4 ms each time, and a script polls every few virtual ms); the
        // end of a time slice: a timer, so the page draws.
        await (yielded ? nextTask() : new Promise((r) => setTimeout(r, 1)));
      }
    } finally {
      this.fastRunning = false;
    }
  }

  /**
   * Advance virtual time to `target`, stopping early at a virtual time a scenario waits for.
   * Returns true when it stopped for a scenario.
   */
  advance(target) {
    const sim = this.sim;
    for (;;) {
      const tw = this.timeWaiters.length ? Math.min(...this.timeWaiters.map((w) => w.at)) : Infinity;
      const limit = Math.min(target, tw);
      // A scenario's script run again to event k (`stopAt`): event by event, and stop before
      // event k+1 (the script has done all it did at event k: said its caption, sent its requests).
      if (this.stopAt) {
        for (;;) {
          const next = sim.nextEventAt();
          if (next === undefined || next === null || next > limit) break;
          if (sim.eventCount() >= this.stopAt.event) {
            const stop = this.stopAt;
            this.stopAt = null;
            stop.hit();
            return true;
          }
          const evs = sim.step();
          this.vt = Math.max(this.vt, sim.now());
          if (this.dispatch(evs)) return true;
          if (sim !== this.sim) return true;
        }
      }
      if (this.eventWaiters.length) {
        // Event by event, so the scenario continues at the exact time of what it awaits.
        for (;;) {
          const next = sim.nextEventAt();
          if (next === undefined || next === null || next > limit) break;
          const evs = sim.step();
          this.vt = Math.max(this.vt, sim.now());
          if (this.dispatch(evs)) return true;
          if (sim !== this.sim) return true;
        }
      }
      const evs = sim.runUntil(limit);
      this.vt = Math.max(this.vt, limit);
      const woke = this.dispatch(evs);
      if (limit === tw) {
        const due = this.timeWaiters.filter((w) => w.at <= limit);
        this.timeWaiters = this.timeWaiters.filter((w) => w.at > limit);
        for (const w of due) w.resolve();
        return true;
      }
      if (woke) return true;
      if (limit >= target) return false;
    }
  }

  /** Hand events to the views; true when a scenario waiter was satisfied. */
  dispatch(evs) {
    if (!evs || evs.length === 0) return false;
    let woke = false;
    for (const e of evs) {
      switch (e.t) {
        case 'send':
          e.routine = isRoutine(e);
          if (e.arrives != null) this.flying.set(e.id, e);
          break;
        case 'deliver': case 'lost': this.flying.delete(e.id); break;
        case 'request': this.busyRequests.add(e.req); break;
        case 'reply':
          this.busyRequests.delete(e.req);
          if (!e.workload) {
            this.recentReplies.set(e.req, e);
            if (this.recentReplies.size > 200) this.recentReplies.delete(this.recentReplies.keys().next().value);
          }
          break;
        default: break;
      }
      if (this.eventWaiters.length) {
        const hit = this.eventWaiters.filter((w) => w.test(e));
        if (hit.length) {
          this.eventWaiters = this.eventWaiters.filter((w) => !hit.includes(w));
          for (const w of hit) w.resolve(e);
          woke = true;
        }
      }
    }
    this.emitAll(evs);
    return woke;
  }

  emitAll(evs) {
    for (const fn of this.listeners) {
      try {
        fn(evs, this);
      } catch (err) {
        console.error('view failed', err);
      }
    }
  }

  /** Frame statistics since the last call (for the quality test). */
  takeFrameStats() {
    const work = this.frameWork.splice(0);
    const gaps = this.frameGaps.splice(0);
    return { work, gaps };
  }
}
