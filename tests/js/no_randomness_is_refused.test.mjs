// Without a cryptographic random source (no crypto.getRandomValues) a replica does not open:
// node ids and dot epochs must not come from Math.random or the clock (issue 15 defect 6).
// Its own file: the wasm module looks `crypto` up once per process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Replica, RingletError } from 'ringlet';

test('open rejects with NO_RANDOMNESS when crypto is missing', async () => {
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
  Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true, writable: true });
  try {
    await assert.rejects(
      Replica.open({ cluster: 'no-random', relay: 'ws://127.0.0.1:1', storage: 'memory', openTimeoutMs: 2_000 }),
      (e) => e instanceof RingletError && e.code === 'NO_RANDOMNESS',
    );
  } finally {
    Object.defineProperty(globalThis, 'crypto', saved);
  }
});
