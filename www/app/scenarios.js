// Guided scenarios: each one builds a fresh cluster and drives it with real client requests
// and faults, pausing on captions that say what happens and why. What the captions quote
// (clocks, hints, owners, repaired keys) is read back from the real core as it runs, and
// each scenario records what it found in `document.body.dataset.result` for the tests. What a
// script can do, and the runner that paces it, are in guide.js.

import { chip, paper } from './inspector.js';
import { MerkleView } from './merkle.js';

const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
const code = (s) => `<code>${esc(paper(s))}</code>`;

const clocks = (reply) => reply.versions.map((v) => v.clock);

export const SCENARIOS = [
  {
    id: 'basics',
    title: 'The basics: a put and a get',
    blurb: 'Consistent hashing, the preference list, W and R.',
    async run(c) {
      await c.reset({ nodes: 5, q: 32, n: 3, r: 2, w: 2, key: 'cart/ada' });
      c.key('cart/ada');
      const info = c.keyInfo('cart/ada');
      const [p0, p1, p2] = info.preflist;
      await c.pause(`Five nodes share a ring of ${info.q} partitions (the coloured arcs, coloured by owner). The key ${code('cart/ada')} hashes (MD5) to partition ${info.partition}: walking clockwise from there, the first ${info.n} distinct owners — <b>${p0}, ${p1}, ${p2}</b> — are its <b>preference list</b>: the nodes that store it (numbered on the ring).`);
      const outsider = info.preflist[info.n];
      await c.say(`A client sends a put to <b>${outsider}</b>, which is not one of the key's replicas: it <b>forwards</b> the write to ${p0}, the first of them. ${p0} coordinates: it creates the version, stores it, and sends it to ${p1} and ${p2}. Watch the <b>W counter</b> next to ${p0}: the put succeeds once W=${info.w} stores (its own included) are acknowledged.`, [outsider, p0, p1, p2]);
      const w = await c.put(outsider, 'cart/ada', 'milk');
      c.result('put', w.context);
      // What the caption says of the acks is read from this step's events: which acks reached
      // the coordinator before it answered, which were still in the air.
      const answered = c.seen((e) => e.t === 'send' && e.from === p0 && e.kind === 'forward-reply');
      const answerAt = answered.length ? c.stepEvents.indexOf(answered[0]) : c.stepEvents.length;
      const acks = c.stepEvents.slice(0, answerAt).filter((e) => e.t === 'deliver' && e.kind === 'put-ack' && e.to === p0).map((e) => e.from);
      const late = [p1, p2].filter((p) => !acks.includes(p));
      c.result('acksBeforeAnswer', acks);
      c.check(acks.length + 1 >= info.w, 'W stores before the answer');
      const secs = (at) => `${((at - c.engine.t0) / 1000).toFixed(3)} s`;
      const answeredAt = answered.length ? answered[0].at : null;
      const lateAt = (p) => [...c.stepEvents, ...c.engine.flying.values()].find((e) => e.kind === 'put-ack' && e.from === p && e.to === p0 && (e.t === 'deliver' || e.t === 'send'));
      const lateText = late.map((p) => {
        const e = lateAt(p);
        return e?.t === 'deliver' ? `${p}'s ack reached ${p0} at ${secs(e.at)}` : `${p}'s ack was still on its way`;
      }).join(' and ');
      await c.pause(`Stored: the version's clock is ${code(w.context)} (one write coordinated by ${w.dot.slice(1, -1).split(',')[0]}). ${p0} answered${answeredAt ? ` at ${secs(answeredAt)}` : ''} once it had W=${info.w} stores: its own and ${acks.map((a) => `${a}'s ack`).join(' and ')}${late.length ? `; ${lateText}, after the answer — the client did not wait for it (the log shows when each message left)` : ''}.`, [outsider, p0, p1, p2]);
      await c.say(`Now a get through <b>${p2}</b>: it asks all ${info.n} replicas and answers once R=${info.r} replied (the <b>R counter</b>).`, [p0, p1, p2]);
      const g = await c.get(p2, 'cart/ada');
      c.result('get', g.values);
      await c.pause(`The get returned ${g.values.map((v) => code(v)).join(', ')} with context ${code(g.context)}: since R + W &gt; N, every read quorum overlaps every write quorum. Select any log line to replay its message on the ring.`);
      c.finalHtml = `A put through a non-replica was forwarded to ${p0} and stored with clock ${code(w.context)}; a get through ${p2} read ${g.values.map(code).join(', ')}.`;
    },
  },
  {
    id: 'figure3',
    title: 'Paper figure 3: versions D1–D5',
    blurb: 'Vector clocks, concurrent writes, siblings and their merge.',
    async run(c) {
      await c.reset({ names: ['Sx', 'Sy', 'Sz'], q: 16, n: 3, r: 2, w: 2, key: 'cart' });
      c.key('cart');
      await c.pause('The paper\'s figure 3 with three nodes named as in the paper: <b>Sx, Sy, Sz</b>. Every version carries a <b>vector clock</b>: a list of (node, counter) pairs, one per node that coordinated a write to it.');
      await c.say('A client writes a new object <b>D1</b> through Sx, without a context (nothing was read before).');
      const d1 = await c.put('Sx', 'cart', 'D1');
      c.result('D1', d1.context);
      await c.pause(`D1 has clock ${code(d1.context)}: the first write Sx coordinated for this key. Sx sent it to Sy and Sz; the W counter filled at 2 of 2.`);
      await c.say(`The client updates the object: it writes <b>D2</b> through Sx, passing the context of D1, ${code(d1.context)}.`);
      const d2 = await c.put('Sx', 'cart', 'D2', d1.context);
      c.result('D2', d2.context);
      await c.pause(`D2 has clock ${code(d2.context)}. It <b>descends</b> from D1 (every counter is at least D1's), so each replica drops D1: <i>syntactic reconciliation</i>. See "Comparisons and merges".`);
      await c.say(`Two clients have both read D2. One writes <b>D3</b> through <b>Sy</b>, the other <b>D4</b> through <b>Sz</b>, at the same time, each with context ${code(d2.context)}.`);
      const [d3, d4] = await Promise.all([c.put('Sy', 'cart', 'D3', d2.context), c.put('Sz', 'cart', 'D4', d2.context)]);
      c.result('D3', d3.context);
      c.result('D4', d4.context);
      await c.sleep(120);
      await c.pause(`D3 ${code(d3.context)} and D4 ${code(d4.context)}: neither descends from the other — Sy's and Sz's counters disagree in opposite directions. They are <b>concurrent</b>, so every replica keeps <b>both</b>: siblings.`);
      await c.say('A client reads the key through Sx.');
      const g = await c.get('Sx', 'cart');
      c.result('read', clocks(g));
      c.result('readContext', g.context);
      c.check(g.versions.length === 2, 'two siblings');
      await c.pause(`The read returns both siblings, ${g.versions.map((v) => chip(v)).join(' and ')}, and one context that covers both: ${code(g.context)}. Dynamo leaves the merge to the application (<i>semantic reconciliation</i>): the client merges the two carts.`);
      await c.say(`The client writes the merged object <b>D5</b> through Sx with context ${code(g.context)}.`);
      const d5 = await c.put('Sx', 'cart', 'D5', g.context);
      c.result('D5', d5.context);
      await c.sleep(150);
      const everywhere = ['Sx', 'Sy', 'Sz'].every((n) => c.held('cart', n).join() === `D5 ${d5.context}`);
      c.check(everywhere, 'D5 alone at every replica');
      c.finalHtml = `The paper's figure 3, clock for clock: <span id="figure3-clocks">${['D1', 'D2', 'D3', 'D4', 'D5'].map((d) => `<b>${d}</b> <code data-clock="${d}">${esc(paper(c.results[d]))}</code>`).join(' · ')}</span>. D3 and D4 were concurrent siblings; D5 merged them.`;
      await c.pause(`D5 ${code(d5.context)} descends from both D3 and D4, so it replaces both at every replica. Exactly the paper's clocks: D1 ${code(c.results.D1)} → D2 ${code(c.results.D2)} → D3 ${code(c.results.D3)} ∥ D4 ${code(c.results.D4)} → D5 ${code(c.results.D5)}.`);
    },
  },
  {
    id: 'handoff',
    title: 'Sloppy quorum and hinted handoff',
    blurb: 'A primary crashes; a fallback takes the write and hands it back.',
    async run(c) {
      await c.reset({ nodes: 5, q: 32, n: 3, r: 2, w: 2, key: 'cart/bob' });
      c.key('cart/bob');
      const pl = c.keyInfo('cart/bob').preflist;
      const [p0, p1, p2, f0] = pl;
      c.result('preflist', pl);
      await c.pause(`${code('cart/bob')} is stored on <b>${p0}, ${p1}, ${p2}</b>; <b>${f0}</b> is its first <b>fallback</b> (f1 on the ring): the next node clockwise.`);
      await c.crash(p1);
      await c.pause(`<b>${p1} crashes.</b> Nobody removes it from the ring: in Dynamo an outage is temporary until an operator says otherwise, so no data moves.`);
      await c.say(`A client writes through ${p0} and asks for <b>W=3</b> stores. ${p0} stores its own copy and sends the version to ${p1} and ${p2}. ${p1} cannot answer: the W counter stops at 2 of 3…`);
      const hinted = c.engine.waitEvent((e) => e.t === 'send' && e.kind === 'put-hinted' && e.key === 'cart/bob');
      const put = c.put(p0, 'cart/bob', 'book', undefined, 3);
      const h = await hinted;
      c.result('hintedTo', h.to);
      await c.say(`…after 250 ms without an answer, ${p0} takes the next healthy node of the preference list, <b>${h.to}</b>, and sends it the version with a <b>hint</b>: "${h.detail.split('hinted: ')[1] ?? 'for ' + p1}". This is the <b>sloppy quorum</b>: the first N <i>healthy</i> nodes, not strictly the first N.`);
      const w = await put;
      await c.sleep(30);
      const hints = c.hints('cart/bob', h.to);
      c.check(hints.length === 1 && hints[0].intended === p1, `${h.to} to hold a hint for ${p1}`);
      c.result('hint', `${h.to} holds ${hints[0].versions[0].value} for ${hints[0].intended}`);
      await c.pause(`W=3 reached with the fallback's store (clock ${code(w.context)}). ${h.to} keeps the hinted copy <b>apart</b> from its own data (dashed in "Versions at each replica") and will offer it back.`);
      await c.restart(p1);
      await c.say(`<b>${p1} restarts</b> from its disk — which never got the write. ${h.to} scans its hints every second and offers each one to its intended node…`);
      await c.until(() => c.held('cart/bob', p1).length > 0 && c.hints('cart/bob', h.to).length === 0, 15_000, 'the hint to be delivered');
      c.result('delivered', c.held('cart/bob', p1));
      await c.pause(`…a <b>hint-delivery</b> message carried the version to ${p1}, which stored it durably and acknowledged; then ${h.to} dropped its hint. ${p1} now holds ${code(c.held('cart/bob', p1)[0])}: nothing was lost, and no operator acted.`);
      c.finalHtml = `Sloppy quorum: ${h.to} stood in for the crashed ${p1} and held a hint; hinted handoff: ${p1} now holds <span id="handoff-delivered">${esc(c.held('cart/bob', p1)[0])}</span> and ${h.to} holds no hint.`;
    },
  },
  {
    id: 'readrepair',
    title: 'Read repair',
    blurb: 'A replica that missed a write is fixed by the next read.',
    async run(c) {
      await c.reset({ nodes: 3, q: 16, n: 3, r: 2, w: 2, key: 'profile/eve', antiEntropyMs: 0 });
      c.key('profile/eve');
      const [p0, p1, p2] = c.keyInfo('profile/eve').preflist;
      await c.say(`Three nodes, N=3: all of them replicate ${code('profile/eve')} (there is no fallback). A client writes <b>v1</b> through ${p0}.`);
      const v1 = await c.put(p0, 'profile/eve', 'v1');
      await c.sleep(80);
      await c.partition([p2]);
      await c.pause(`<b>The network is cut</b>: ${p2} is alone on one side (dashed line). Anti-entropy is off in this scenario, so only reads can repair.`);
      await c.say(`A client updates the key to <b>v2</b> through ${p0}, with the context of v1, ${code(v1.context)}. ${p0} and ${p1} make W=2; ${p2} never gets it.`);
      const v2 = await c.put(p0, 'profile/eve', 'v2', v1.context);
      await c.sleep(300);
      await c.heal();
      c.result('stale', c.held('profile/eve', p2));
      await c.pause(`The network heals. ${p2} is <b>stale</b>: it still holds ${code(c.held('profile/eve', p2).join(' '))} while the others hold v2 ${code(v2.context)}.`);
      await c.say(`A client reads through ${p1} (R=2). The coordinator answers after two replies, then waits 100 ms for late replies and compares every answer with the merged result…`);
      const repair = c.engine.waitEvent((e) => e.t === 'send' && e.kind === 'read-repair' && e.to === p2);
      const g = await c.get(p1, 'profile/eve');
      c.result('read', g.values);
      const rr = await repair;
      c.result('repairFrom', rr.from);
      await c.until(() => c.held('profile/eve', p2).join() === `v2 ${v2.context}`, 5_000, 'the repair to land');
      c.result('repaired', c.held('profile/eve', p2));
      await c.pause(`${p2}'s answer ${code('v1')} is covered by v2 (v2 <span class="rel descends">descends</span> from it), so ${rr.from} sent ${p2} a <b>read-repair</b> with v2 — off the client's path: the client already had its answer, ${g.values.map(code).join(', ')}. ${p2} now holds ${code(c.held('profile/eve', p2)[0])}.`);
      c.finalHtml = `${p2} was stale (${code(c.results.stale.join(' '))}); the read through ${p1} answered ${g.values.map(code).join(', ')} and ${rr.from} repaired ${p2}: it now holds <span id="repaired">${esc(c.held('profile/eve', p2)[0])}</span>.`;
    },
  },
  {
    id: 'antientropy',
    title: 'Anti-entropy with Merkle trees',
    blurb: 'Replicas diverge in a partition; trees find the few keys that differ.',
    async run(c) {
      await c.reset({ nodes: 3, q: 8, n: 3, r: 2, w: 2, key: 'item/3', readRepair: false, antiEntropyMs: 300, hints: false, reconnectNotices: false });
      c.app.log.show('merkle', true);
      c.key('item/3');
      const names = c.sim.state().nodes.map((n) => n.name);
      const [a, , cc] = names;
      const KEYS = 96;
      await c.say(`Three replicas of every key. Read repair and hinted handoff are <b>off</b> here and nobody will read: only anti-entropy can fix a replica. A client writes ${KEYS} keys through ${a}, ${code('item/0')} to ${code(`item/${KEYS - 1}`)}: ${KEYS / 8} or so in each of the 8 partitions.`, [a]);
      const ctx = {};
      const written = await Promise.all(Array.from({ length: KEYS }, (_, k) => c.put(a, `item/${k}`, `old${k}`)));
      written.forEach((w, k) => { ctx[k] = w.context; });
      await c.sleep(200);
      await c.partition([cc]);
      await c.pause(`<b>${cc} is cut off</b> (dashed line). Every replica still holds the same ${KEYS} keys.`, [cc]);
      await c.say(`Two keys change on the other side: ${code('item/3')} and ${code('item/7')} are rewritten through ${a}. ${cc} does not get them.`, [a, cc]);
      await c.put(a, 'item/3', 'new3', ctx[3]);
      await c.put(a, 'item/7', 'new7', ctx[7]);
      await c.sleep(300);
      await c.heal();
      const repaired = new Set();
      let merkle = 0;
      let readRepairs = 0;
      const off = c.engine.on((evs) => {
        for (const e of evs) {
          if (e.t === 'send' && e.kind === 'ae-repair' && e.key) repaired.add(e.key);
          if (e.t === 'send' && e.kind === 'read-repair') readRepairs++;
          if (e.t === 'send' && e.kind === 'merkle') merkle++;
        }
      });
      try {
        await c.pause(`Healed. ${cc} holds old versions of ${code('item/3')} and ${code('item/7')}. Every 300 ms each node takes its next partition and compares its <b>Merkle tree</b> with another replica's (teal <b>merkle</b> messages): the <b>root hashes</b> first; equal roots end the exchange; different roots make them descend into the <b>differing branches only</b>, down to the keys.`);
        const found = c.engine.waitEvent((e) => e.t === 'send' && e.merkle?.trees && (e.from === cc || e.to === cc), 'an exchange with the stale replica that finds a difference');
        await c.say(`Watch the <b>Merkle trees</b> panel: the next exchange between ${cc} and another replica over a partition holding a changed key…`, [cc]);
        const hit = await found;
        const v = hit.merkle.trees;
        const d1 = v.nodes.filter((n) => n.depth === 1);
        const diff1 = d1.filter((n) => n.differ).length;
        const keysDiffer = v.keys.filter((k) => k.differ).map((k) => k.key);
        c.result('tree', { partition: v.partition, a: v.a, b: v.b, diff1, shown: v.nodes.length, keysDiffer, fullBytes: v.fullBytes });
        await c.until(() => c.app.merkle.exchanges.get(MerkleView.id(hit))?.done, 5_000, 'the exchange to end');
        const x = c.app.merkle.exchanges.get(MerkleView.id(hit));
        c.result('exchangeBytes', x.bytes);
        await c.pause(`${v.a} and ${v.b}, partition <b>${v.partition}</b> (${v.keysA} and ${v.keysB} keys): their roots differ (${code(v.rootA)} ≠ ${code(v.rootB)}); of the root's ${d1.length} branches only <b>${diff1}</b> differ${diff1 === 1 ? 's' : ''}, and the exchange descends into ${diff1 === 1 ? 'it' : 'them'} alone, down to the key${keysDiffer.length === 1 ? '' : 's'} that differ${keysDiffer.length === 1 ? 's' : ''}: ${keysDiffer.map(code).join(', ')}. It took <b>${x.bytes} bytes</b> in ${x.messages} messages; sending every key and digest would take ${v.fullBytes} bytes.`, [v.a, v.b]);
        await c.say('Anti-entropy goes on, partition after partition, until every replica agrees.');
        await c.until(() => c.held('item/3', cc).join().includes('new3') && c.held('item/7', cc).join().includes('new7'), 30_000, 'anti-entropy to repair both keys');
        await c.sleep(400);
      } finally {
        off();
      }
      const moved = [...repaired].sort();
      c.result('moved', moved);
      c.result('merkle', merkle);
      c.check(moved.every((k) => k === 'item/3' || k === 'item/7'), 'only the differing keys to move');
      c.check(readRepairs === 0, 'no read repair (it is off and nobody reads)');
      c.result('readRepairs', readRepairs);
      await c.pause(`Repaired: ${cc} holds ${code(c.held('item/3', cc)[0])} and ${code(c.held('item/7', cc)[0])}. ${merkle} merkle messages compared the trees; the keys that moved (<b>ae-repair</b> messages, not read repairs) were only ${moved.map(code).join(' and ')} — not the ${KEYS - 2} others. The cost follows the differences, not the data.`);
      c.finalHtml = `${merkle} merkle messages compared the trees; the only keys that moved: <span id="ae-moved">${moved.map(esc).join(', ')}</span>. ${cc} holds ${code(c.held('item/3', cc)[0])} and ${code(c.held('item/7', cc)[0])}.`;
    },
  },
  {
    id: 'join',
    title: 'Join and rebalance',
    blurb: 'A node joins; partitions and their keys move to it.',
    async run(c) {
      await c.reset({ nodes: 4, q: 32, n: 3, r: 2, w: 2, key: 'key/1' });
      c.key('key/1');
      const before = c.sim.ring();
      await c.say(`Four nodes own 8 of the ${before.q} partitions each. A client writes 16 keys.`);
      for (let k = 0; k < 16; k++) await c.put(c.sim.state().nodes[k % 4].name, `key/${k}`, `v${k}`);
      await c.sleep(200);
      await c.say('A new node <b>E</b> joins through two seeds: it starts as <b>joining</b> (dashed) and gossips. The <b>claimant</b> — the smallest valid member — computes a new ring that moves as few partitions as possible.');
      await c.fault('join', (s) => s.join(1));
      await c.until(() => c.sim.ring().owners.includes('E'), 20_000, 'E to own partitions');
      const after = c.sim.ring();
      const moves = after.owners.map((o, p) => [p, before.owners[p], o]).filter(([, x, y]) => x !== y);
      const toE = moves.filter(([, , y]) => y === 'E').length;
      c.result('moved', moves.length);
      c.result('toE', toE);
      c.check(moves.every(([, , y]) => y === 'E'), 'partitions to move only to the new node');
      c.marks = moves.map(([p]) => p);
      await c.pause(`Ring epoch ${after.epoch}: <b>${moves.length}</b> partitions changed owner (outlined on the ring), all of them to E — none moved between the old nodes. Next, the old owners hand off the keys of partitions they no longer replicate (<b>transfer</b> messages).`);
      const misplaced = () => {
        let bad = 0;
        for (let k = 0; k < 16; k++) {
          const info = c.keyInfo(`key/${k}`);
          const primaries = new Set(info.preflist.slice(0, info.n));
          for (const r of info.replicas) {
            const has = r.versions.length > 0;
            if (primaries.has(r.node) !== has) bad++;
          }
        }
        return bad;
      };
      await c.until(() => misplaced() === 0, 30_000, 'every key to sit on exactly its new replicas');
      // E owns partitions (in the newest ring any node has) before it learns that it is valid:
      // the scenario ends once E is a valid member, as the ring then draws it.
      await c.until(() => c.sim.state().nodes.find((n) => n.name === 'E').status === 'valid', 30_000, 'E to be a valid member');
      const held = c.sim.state().nodes.find((n) => n.name === 'E').keys;
      c.result('keysOnE', held);
      await c.pause(`Done: E is a <b>valid</b> member and holds <b>${held}</b> keys; every key sits on exactly the three nodes of its new preference list. A key is dropped by its old owner only after every new replica acknowledged a durable copy, so nothing was lost in between.`);
      c.finalHtml = `<span id="join-moved">${moves.length}</span> partitions moved, all to E (ring epoch ${after.epoch}); E is valid and holds <span id="join-keys">${held}</span> keys; every key sits on exactly its new preference list.`;
    },
  },
  {
    id: 'dvv',
    title: 'Why dotted version vectors',
    blurb: 'Two blind writes through one node: plain clocks lose one.',
    async run(c) {
      await c.reset({ names: ['Sx', 'Sy', 'Sz'], q: 16, n: 3, r: 2, w: 2, key: 'cart/zoe' });
      c.key('cart/zoe');
      await c.say('Two clients write the same key <b>without reading it first</b> (blind writes, empty context), both through <b>Sx</b>. First <b>A</b>…');
      const a = await c.put('Sx', 'cart/zoe', 'A');
      await c.say(`…then <b>B</b>, also through Sx, also with an empty context: B's writer has not seen A.`);
      const b = await c.put('Sx', 'cart/zoe', 'B');
      c.result('A', a.dot);
      c.result('B', b.dot);
      c.check(a.dot === '(Sx,1)' && b.dot === '(Sx,2)', 'the dots (Sx,1) and (Sx,2)');
      await c.sleep(100);
      await c.pause(`<b>With plain vector clocks</b> (the paper's), Sx would stamp A ${code(paper('[(Sx,1)]'))} and B ${code(paper('[(Sx,2)]'))}. B's clock would then <b>descend</b> from A's (Sx's counter 2 ≥ 1), so every replica would drop A: <b>a lost write</b>, although B's writer never saw A.`, ['Sx']);
      await c.say('ringlet keeps each version as a <b>dot</b> — the write event itself, (node, counter) — plus its <b>past</b> — the versions its writer had seen (its context). A read through Sy shows what survived.');
      const g = await c.get('Sy', 'cart/zoe');
      c.result('values', g.values);
      c.check(g.values.length === 2, 'both blind writes to survive');
      const va = g.versions.find((v) => v.value === 'A');
      const vb = g.versions.find((v) => v.value === 'B');
      c.check(va && vb && vb.past === '[]', 'B with an empty past');
      const rows = g.versions.map((v) => `<tr><td><b>${esc(v.value)}</b></td><td class="mono">dot ${esc(paper(v.dot))}</td><td class="mono">past ${esc(paper(v.past))}</td></tr>`).join('');
      c.finalHtml = `<table class="table"><thead><tr><th></th><th>plain vector clocks</th><th>dotted version vectors (ringlet)</th></tr></thead><tbody>
        <tr><td>A</td><td class="mono">${esc(paper('[(Sx,1)]'))}</td><td class="mono">dot ${esc(paper(a.dot))}, past ()</td></tr>
        <tr><td>B</td><td class="mono">${esc(paper('[(Sx,2)]'))} descends from ${esc(paper('[(Sx,1)]'))}: A dropped</td><td class="mono">dot ${esc(paper(b.dot))}, past (): does not cover ${esc(paper(a.dot))}</td></tr>
        <tr><td>read</td><td>B only</td><td data-values>${g.values.map(esc).join(', ')}</td></tr></tbody></table>`;
      await c.pause(`Both survive as siblings: <table class="table">${rows}</table> A version replaces another only if its <b>past covers the other's dot</b>. B's dot ${code(vb.dot)} has a higher counter than A's ${code(va.dot)}, but B's past is ${code(vb.past)}: it does not contain ${code(va.dot)}, because B's writer never saw A. So B does <b>not</b> descend from A, and neither replaces the other: they are <b>concurrent</b>.`);
      await c.say(`The client merges and writes back with the read's context ${code(paper(g.context))}, whose past covers both dots.`);
      const m = await c.put('Sx', 'cart/zoe', 'A+B', g.context);
      await c.sleep(100);
      c.result('merged', m.context);
      await c.pause(`${code('A+B')} has dot ${code(m.dot)} and past ${code(paper(g.context))}: its past covers both (Sx,1) and (Sx,2), so it replaces both siblings everywhere. Its clock is ${code(paper(m.context))}.`);
    },
  },
];
