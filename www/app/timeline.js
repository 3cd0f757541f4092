// The timeline of the run: a slider over its simulator events and step back (B). The
// simulator is deterministic, so going to event k is replaying the run from its seed with
// the page's inputs at their points (engine.seek); going forward again re-runs the same run.
// A guided scenario's script stops at a seek, but its captions are kept with the events they
// spanned, so the caption on screen at event k is shown again.

const $ = (id) => document.getElementById(id);

export class TimelineView {
  constructor(app) {
    this.app = app;
    this.captions = []; // [{ at, html, step }] of the scenario that ran on this cluster
    this.slider = $('timeline');
    this.slider.addEventListener('input', () => this.show(Number(this.slider.value), this.end));
    this.slider.addEventListener('change', () => this.seek(Number(this.slider.value)));
    $('btn-back').addEventListener('click', () => this.back());
    this.end = 0;
  }

  /** A new cluster: a new run. */
  reset() { this.captions = []; this.sync(); }

  /** A scenario's caption, at the current event. */
  caption(html, step) { this.captions.push({ at: this.app.engine.position().at, readAt: null, html, step }); }

  /** The reader continued from the current caption: it was read at this event. */
  captionRead() {
    const last = this.captions.at(-1);
    if (last) last.readAt = this.app.engine.position().at;
  }

  show(at, end) {
    $('timeline-out').textContent = `${at} / ${end}`;
    this.slider.setAttribute('aria-valuetext', `event ${at} of ${end}`);
  }

  /** Follow the run (once a frame). */
  sync() {
    const { at, end } = this.app.engine.position();
    this.end = end;
    if (this.slider.max !== String(end)) this.slider.max = String(end);
    if (document.activeElement !== this.slider || this.slider.value === String(at)) {
      if (this.slider.value !== String(at)) this.slider.value = String(at);
      this.show(at, end);
    }
    $('btn-back').disabled = at === 0;
  }

  /** Back: in a running guided scenario, to its previous step; otherwise one event back. */
  back() {
    if (this.app.scenarios.current && this.app.scenarios.backStep()) return;
    this.seek(this.app.engine.position().at - 1);
  }

  seek(k) {
    const app = this.app;
    if (!app.sim) return;
    const running = app.scenarios.current;
    app.scenarios.detach();
    app.setPlay(false);
    const ms = app.engine.seek(Math.max(0, k));
    const { at, end } = app.engine.position();
    document.body.dataset.seek = String(at);
    document.body.dataset.seekMs = ms.toFixed(1);
    // The caption about event k: the last one read at k (several captions can be read at
    // one event while the clock is held), else the last one shown before k.
    const said = [...this.captions].reverse().find((c) => c.readAt === at)
      ?? [...this.captions].reverse().find((c) => c.at <= at);
    if (said) {
      $('caption-text').innerHTML = said.html;
      $('caption-step').textContent = `${said.step} · replay at event ${at} of ${end}`;
    } else if (!running) {
      $('caption-step').textContent = `event ${at} of ${end}`;
    }
    app.flushViews();
    this.sync();
  }
}
