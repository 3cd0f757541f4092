// The edge node: a ringlet node (the same wasm core as the tabs) living in the Durable Object
// that relays its cluster. It is a member of the room it relays through an in-process
// endpoint (no WebSocket to itself), keeps its data in the object's transactional storage
// (js/edge/storage.js), and is woken by the object's alarm for its next deadline, so
// gossip, hinted handoff and anti-entropy go on while no browser is connected.

import { Replica } from '../index.js';
import { DurableObjectStore } from './storage.js';

/** The alarm never fires sooner than this after it was armed (each arming is a storage write). */
export const ALARM_MIN_MS = 1_000;
/** ...and never later than this, so an evicted object comes back to its node regularly. */
export const ALARM_MAX_MS = 30_000;

/** A relay endpoint (see `RelayEndpoint` in js/index.d.ts) seating the node in `rooms`. */
export function localEndpoint(rooms) {
  let seat = null;
  return {
    connect(hello, deliver, closed) {
      const peer = {
        send: (data) => deliver(data),
        close: (code, reason) => {
          seat = null;
          closed(code, reason);
        },
      };
      seat = rooms.hello(hello, peer, { local: true });
    },
    send(frame) {
      if (!seat) return false;
      seat.forward(frame);
      return true;
    },
    close() {
      seat?.leave();
      seat = null;
    },
  };
}

/** The edge node's settings from the Worker's environment (wrangler `[vars]`). */
export function edgeConfig(env = {}) {
  const int = (name, dflt) => {
    const v = env[name];
    if (v === undefined || v === '') return dflt;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, got ${v}`);
    return n;
  };
  return {
    name: env.RINGLET_EDGE_NODE || 'edge',
    n: int('RINGLET_N', 3),
    r: int('RINGLET_R', 2),
    w: int('RINGLET_W', 2),
    q: int('RINGLET_Q', 64),
    capacity: int('RINGLET_EDGE_CAPACITY', 1),
    gossipIntervalMs: int('RINGLET_GOSSIP_MS', 1_000),
    // The membership lease (memberTtlMs); unset: the default for its storage (7 days).
    memberTtlMs: int('RINGLET_MEMBER_TTL_MS', undefined),
  };
}

/** Open the edge node of `cluster` in the Durable Object whose state is `state`. */
export async function openEdgeNode({ cluster, rooms, state, env }) {
  const config = edgeConfig(env);
  return Replica.open({
    cluster,
    relay: localEndpoint(rooms),
    storage: new DurableObjectStore(state.storage),
    durableReplica: true,
    ...config,
  });
}

/** Arm the object's alarm for the node's next deadline (clamped, see ALARM_MIN/MAX_MS). */
export async function armAlarm(storage, replica, now = Date.now()) {
  const next = replica?.nextDeadline() ?? now + ALARM_MAX_MS;
  const at = Math.min(Math.max(next, now + ALARM_MIN_MS), now + ALARM_MAX_MS);
  const current = await storage.getAlarm();
  // An alarm already due sooner than we need stays; it re-arms when it fires.
  if (current === null || current > at || current < now) await storage.setAlarm(at);
}
