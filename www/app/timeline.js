// The timeline of the run: a slider over its simulator events and step back (B). The
// simulator is deterministic, so going to event k is replaying the run from its seed with
// the page's inputs at their points (engine.seek); going forward again re-runs the same run.
// In a running guided scenario, going to event k runs its script again from the seed up to
// k (scenarios.js, seekTo), so the script stays in step: the caption of that moment is shown
// and Continue goes on from there. After a scenario, its captions are kept with the events
// they spanned, so the caption on screen at event k is shown again.

const $ = (id) => document.getElementById(id);

export class TimelineView {
  constructor(app) {
    this.app = app;
    this.captions = []; // [{ at, html, step }] of the scenario that ran on this cluster
    this.slider = $('timeline');
    this.slider.addEventListener('input', () => this.show(Number(this.slider.value), this.end()));
    this.slider.addEventListener('change', () => this.seek(Number(this.slider.value)));
    $('btn-back').addEventListener('click', () => this.back());
    this.current = null; // the caption on screen (its entry in `captions`)
    this.scriptEnd = 0;
  }

  /**
   * A new cluster: a new run. A guided scenario's script run again to a point of its run
   * (going back or forward in it) keeps its captions and the end of the run it had.
   */
  reset() {
    if (!this.app.scenarios.seeking) {
      this.captions = [];
      this.scriptEnd = 0;
    }
    this.current = null;
    this.sync();
  }

  /**
   * A scenario's caption, at the current event (`stepNo`: its step). The script run again
   * says its captions again: each one that is the next kept caption (same event, same text)
   * is that one; a different one drops the kept captions from there on (the run went
   * differently).
   */
  caption(html, step, stepNo = 0) {
    const at = this.app.engine.position().at;
    const k = this.current ? this.captions.indexOf(this.current) : -1;
    const next = this.captions[k + 1];
    if (next && next.at === at && next.step === step && next.html === html) { this.current = next; return; }
    this.captions.splice(k + 1);
    this.current = { at, readAt: null, html, step, stepNo };
    this.captions.push(this.current);
  }

  /** The reader continued from the current caption: it was read at this event. */
  captionRead() {
    if (this.current) this.current.readAt = this.app.engine.position().at;
  }

  /** The caption of event k: the last one read at k (several captions can be read at one event while the clock is held), else the last one shown by k. */
  captionAt(k) {
    return [...this.captions].reverse().find((c) => c.readAt === k) ?? [...this.captions].reverse().find((c) => c.at <= k);
  }

  /** The run's end: in a guided scenario run again to an earlier point, the end it had reached. */
  end() {
    const { end } = this.app.engine.position();
    return this.app.scenarios.current ? Math.max(end, this.scriptEnd ?? 0) : end;
  }

  show(at, end) {
    $('timeline-out').textContent = `${at} / ${end}`;
    this.slider.setAttribute('aria-valuetext', `event ${at} of ${end}`);
  }

  /** Follow the run (once a frame). */
  sync() {
    const { at } = this.app.engine.position();
    const end = this.end();
    this.scriptEnd = Math.max(this.scriptEnd ?? 0, end);
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
    // A running guided scenario: its script runs again to event k, and holds there.
    if (app.scenarios.current && app.scenarios.seekTo(Math.max(0, k))) return;
    const running = app.scenarios.current;
    app.scenarios.detach();
    app.setPlay(false);
    const ms = app.engine.seek(Math.max(0, k));
    const { at, end } = app.engine.position();
    document.body.dataset.seek = String(at);
    document.body.dataset.seekMs = ms.toFixed(1);
    // The caption about event k: the last one read at k (several captions can be read at
    // one event while the clock is held), else the last one shown before k.
    const said = this.captionAt(at);
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
