// ringlet/edge: the Cloudflare Worker and its Durable Object, one object per cluster.
//
// The object (a) relays the frames of its cluster's nodes exactly like the native relay
// (js/edge/relay.js; WebSockets accepted with the hibernation API), and (b) hosts the edge
// node, a ringlet node of the same wasm core whose storage is the object's transactional
// storage (js/edge/node.js, js/edge/storage.js), woken by the object's alarm.
//
// Routes of the Worker:
//   GET /ws[?cluster=NAME]      WebSocket to the relay of cluster NAME (default RINGLET_CLUSTER)
//   GET /stats[?cluster=NAME]   the relay's /stats JSON for that cluster's object
//   GET /edge[?cluster=NAME]    the edge node: id, members, ring epoch and stats (JSON)
//   anything else               the static pages (env.ASSETS), or 404

import { init } from '../index.js';
import wasmModule from '../../pkg/ringlet_bg.wasm';
import { Rooms, HELLO_TIMEOUT_MS, CLOSE_BAD_HELLO, CLOSE_ORIGIN_NOT_ALLOWED } from './relay.js';
import { accessFromEnv, originAllowed, checkHelloToken } from './access.js';
import { openEdgeNode, armAlarm } from './node.js';

const CLUSTER_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const CLUSTER_KEY = 'edge/cluster';

function clusterOf(url, env) {
  return url.searchParams.get('cluster') || env.RINGLET_CLUSTER || 'demo';
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/ws' || url.pathname === '/stats' || url.pathname === '/edge') {
      const cluster = clusterOf(url, env);
      if (!CLUSTER_RE.test(cluster)) {
        return new Response('cluster must be 1..=64 characters from [A-Za-z0-9_.-]\n', { status: 400 });
      }
      const stub = env.RINGLET_CLUSTER_DO.get(env.RINGLET_CLUSTER_DO.idFromName(cluster));
      const headers = new Headers(request.headers);
      headers.set('x-ringlet-cluster', cluster);
      return stub.fetch(new Request(request, { headers }));
    }
    if (env.ASSETS) return env.ASSETS.fetch(request);
    return new Response('not found\n', { status: 404 });
  },
};

/** The Durable Object of one cluster: its relay and its edge node. */
export class RingletCluster {
  constructor(state, env) {
    this.state = state;
    this.env = env;
    init({ module: wasmModule });
    this.rooms = new Rooms(env.RINGLET_MAX_FRAME ? { maxFrame: Number(env.RINGLET_MAX_FRAME) } : {});
    this.seats = new Map();
    // Join tokens and the origin allowlist (access.js); hellos being checked, with the
    // frames that arrived meanwhile.
    this.access = accessFromEnv(env);
    this.checking = new Map();
    // After hibernation the sockets are still there; seat their nodes again (silently: the
    // others were told when they joined).
    for (const ws of state.getWebSockets()) {
      const att = ws.deserializeAttachment();
      if (att?.node) this.seats.set(ws, this.rooms.seat(att.cluster, att.node, peerOf(ws), { announce: false }));
    }
    this.node = null;
    this.opening = null;
    this.cluster = null;
    this.alarms = 0;
  }

  async fetch(request) {
    const url = new URL(request.url);
    const cluster = request.headers.get('x-ringlet-cluster');
    if (cluster) await this.#remember(cluster);
    this.ensureNode();
    if (url.pathname === '/stats') return json(this.rooms.stats());
    if (url.pathname === '/edge') return json(await this.#status());
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('expected a WebSocket upgrade\n', { status: 426 });
    }
    const [client, server] = Object.values(new WebSocketPair());
    this.state.acceptWebSocket(server);
    const origin = request.headers.get('origin');
    if (!originAllowed(this.access, origin)) {
      // As the native relay: refused right after the upgrade, so the page gets a typed error.
      this.rooms.refuse(peerOf(server), JSON.stringify({
        type: 'error', code: 'ORIGIN_NOT_ALLOWED', message: `origin ${JSON.stringify(origin)} is not allowed on this relay`,
      }), CLOSE_ORIGIN_NOT_ALLOWED, 'origin not allowed');
      return new Response(null, { status: 101, webSocket: client });
    }
    // What the authorisation hook may want from the upgrade request (relay.js authorizeHello).
    server.serializeAttachment({ origin: request.headers.get('origin') });
    // No hello within 10 s: refused like the native relay does.
    setTimeout(() => {
      if (!this.seats.has(server) && server.readyState === WebSocket.OPEN) {
        this.rooms.refuse(peerOf(server), JSON.stringify({
          type: 'error', code: 'BAD_HELLO', message: `no hello within ${HELLO_TIMEOUT_MS / 1000}s`,
        }), CLOSE_BAD_HELLO, 'bad hello');
      }
    }, HELLO_TIMEOUT_MS);
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketMessage(ws, message) {
    const seat = this.seats.get(ws);
    if (!seat) {
      // Frames after a hello whose token is being checked wait for the verdict, in order.
      if (this.checking.has(ws)) {
        this.checking.get(ws).push(message);
        return;
      }
      const upgrade = ws.deserializeAttachment() ?? {};
      this.checking.set(ws, []);
      const auth = typeof message === 'string' ? await checkHelloToken(this.access, message) : { ok: true };
      const queued = this.checking.get(ws);
      this.checking.delete(ws);
      const s = this.rooms.hello(message, peerOf(ws), { websocket: true, origin: upgrade.origin ?? null, auth });
      if (s) {
        this.seats.set(ws, s);
        ws.serializeAttachment({ ...upgrade, cluster: s.cluster, node: s.node });
        for (const m of queued) await this.webSocketMessage(ws, m);
      }
      return;
    }
    if (typeof message === 'string') {
      seat.text();
      return;
    }
    // The native relay's WebSocket layer refuses frames above twice the maximum (at least
    // 64 KiB) before buffering them, and ends the connection (1009); so does this one.
    if (message.byteLength > Math.max(2 * this.rooms.maxFrame, 64 * 1024)) {
      this.rooms.oversize(seat, message.byteLength);
      this.#end(ws);
      return;
    }
    seat.forward(new Uint8Array(message));
  }

  async webSocketClose(ws, code, reason) {
    this.#end(ws);
    try {
      ws.close(code === 1005 ? 1000 : code, reason);
    } catch {
      // Closed already.
    }
  }

  async webSocketError(ws) {
    this.#end(ws);
  }

  /** The alarm: wake the edge node (reopened from storage after an eviction) and re-arm. */
  async alarm() {
    this.alarms += 1;
    const node = await this.ensureNode();
    node?.tick();
    await armAlarm(this.state.storage, node);
  }

  #end(ws) {
    this.checking.delete(ws);
    const seat = this.seats.get(ws);
    this.seats.delete(ws);
    seat?.leave();
  }

  async #remember(cluster) {
    if (this.cluster === cluster) return;
    this.cluster = cluster;
    if ((await this.state.storage.get(CLUSTER_KEY)) !== cluster) await this.state.storage.put(CLUSTER_KEY, cluster);
  }

  /** Open the edge node once (resolves to it, or null while it cannot open). */
  ensureNode() {
    if (this.node) return Promise.resolve(this.node);
    if (!this.opening) {
      this.opening = (async () => {
        const cluster = this.cluster ?? (await this.state.storage.get(CLUSTER_KEY));
        if (!cluster) return null;
        this.cluster = cluster;
        try {
          this.node = await openEdgeNode({ cluster, rooms: this.rooms, state: this.state, env: this.env });
          await armAlarm(this.state.storage, this.node);
          return this.node;
        } catch (e) {
          console.error('ringlet edge: the edge node did not open', e);
          return null;
        } finally {
          this.opening = null;
        }
      })();
    }
    return this.opening;
  }

  async #status() {
    const node = await this.ensureNode();
    if (!node) return { cluster: this.cluster, open: false };
    return {
      cluster: this.cluster,
      open: true,
      id: node.id,
      members: node.members(),
      ring: node.ring()?.epoch ?? null,
      stats: node.stats(),
      nextDeadline: node.nextDeadline() ?? null,
      alarm: await this.state.storage.getAlarm(),
      alarmsFired: this.alarms,
    };
  }
}

function json(v) {
  return new Response(JSON.stringify(v), { headers: { 'content-type': 'application/json' } });
}

/** A hibernatable WebSocket as a relay peer. */
function peerOf(ws) {
  return {
    send: (data) => ws.send(data),
    close: (code, reason) => ws.close(code, reason),
  };
}
