// The paper's measurements (§6) taken on the running simulation: how many versions reads
// see, how evenly the request load spreads over the nodes (the 15% imbalance threshold of
// §6.2, figure 6), and request latency percentiles, in virtual milliseconds.

const $ = (id) => document.getElementById(id);

export class MetricsView {
  constructor(app) { this.app = app; }

  reset() {
    $('m-versions').innerHTML = '<p class="hint">No reads yet. Press Play: the clients read and write.</p>';
    $('m-load').innerHTML = '';
    $('m-latency').innerHTML = '';
  }

  render() {
    const sim = this.app.sim;
    if (!sim) return;
    const m = sim.metrics();
    this.renderVersions(m);
    this.renderLoad(m);
    this.renderLatency(m);
  }

  renderVersions(m) {
    const found = m.reads_by_versions[1] + m.reads_by_versions[2] + m.reads_by_versions[3];
    if (m.reads === 0) return;
    const pct = (x) => (found ? (100 * x) / found : 0);
    const rows = [['1', m.reads_by_versions[1]], ['2', m.reads_by_versions[2]], ['3+', m.reads_by_versions[3]]];
    $('m-versions').innerHTML = `<p><span class="big">${found ? pct(m.reads_by_versions[1]).toFixed(2) : '–'}%</span> of the ${found} reads that found the key saw exactly one version
      <span class="small">(the paper: 99.94%)</span></p>
      <div class="bars">${rows.map(([k, v]) => `<div class="bar-row"><span>${k} ver.</span><div class="bar"><span style="width:${pct(v).toFixed(1)}%"></span></div><span class="mono">${v} · ${pct(v).toFixed(1)}%</span></div>`).join('')}</div>
      <p class="hint">${m.reads_by_versions[0]} read(s) found nothing. Siblings come from concurrent writes to one key (read-modify-writes that overlap, blind writes) and from partitions.</p>`;
  }

  renderLoad(m) {
    // The nodes that own partitions now: a removed or exited node has no load to balance.
    const load = m.load.filter((l) => l.partitions > 0);
    if (!load.length) return;
    const mean = load.reduce((a, l) => a + l.requests, 0) / load.length;
    const max = Math.max(...load.map((l) => l.requests), mean * 1.2, 1);
    const lo = mean * 0.85; const hi = mean * 1.15;
    const out = load.filter((l) => l.requests < lo || l.requests > hi).length;
    $('m-load').innerHTML = `<p><span class="big">${mean > 0 ? out : 0} of ${load.length}</span> nodes more than 15% from the mean load
      <span class="small">(the paper's threshold for "out of balance", figure 6)</span></p>
      <div class="bars">${load.map((l) => {
        const o = mean > 0 && (l.requests < lo || l.requests > hi);
        return `<div class="bar-row"><span>${l.node}</span><div class="bar"><div class="band" style="left:${(100 * lo / max).toFixed(1)}%;width:${(100 * (hi - lo) / max).toFixed(1)}%"></div><span class="${o ? 'out' : ''}" style="width:${(100 * l.requests / max).toFixed(1)}%"></span><div class="mean" style="left:${(100 * mean / max).toFixed(1)}%"></div></div><span class="mono">${l.requests} · ${l.partitions}p</span></div>`;
      }).join('')}</div>
      <p class="hint">Requests handled per node (coordinations and replica work; green band: mean ±15%) and partitions owned. With few keys or little traffic the load is lumpy; the paper saw imbalance fall as load rose.</p>`;
  }

  renderLatency(m) {
    const row = (name, l) => `<tr><td>${name}</td><td class="num">${l.count}</td><td class="num">${l.p50 ?? '–'}</td><td class="num">${l.p99 ?? '–'}</td><td class="num">${l.p999 ?? '–'}</td><td class="num">${l.max ?? '–'}</td></tr>`;
    $('m-latency').innerHTML = `<table class="table"><thead><tr><th></th><th class="num">n</th><th class="num">p50</th><th class="num">p99</th><th class="num">p99.9</th><th class="num">max</th></tr></thead>
      <tbody>${row('get', m.get)}${row('put', m.put)}</tbody></table>
      <p class="hint">${m.ok} requests succeeded, ${m.failed} failed. The paper reports a 99.9th percentile of about 200 ms against a 300 ms SLA; here latency is the simulated network's (see Faults → Latency) plus timeouts: a put that waits for a crashed replica pays the 250 ms sloppy-quorum retry.</p>`;
  }
}
