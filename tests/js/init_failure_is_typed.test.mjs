// init() that cannot load the wasm module rejects with a RingletError WASM_LOAD_FAILED (not a
// plain Error), and a later init from the package's own module still works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { init, RingletError } from 'ringlet';

test('an init that cannot load the module is WASM_LOAD_FAILED; the next init works', async () => {
  const missing = new URL('file:///nonexistent/ringlet_bg.wasm');
  const e = await init({ url: missing }).then(() => null, (err) => err);
  assert.ok(e instanceof RingletError, `a RingletError, got ${e}`);
  assert.equal(e.code, 'WASM_LOAD_FAILED');
  assert.match(e.message, /nonexistent/);
  const notWasm = await init({ url: new Uint8Array([0x3c, 0x21, 0x64, 0x6f]) }).then(() => null, (err) => err);
  assert.equal(notWasm?.code, 'WASM_LOAD_FAILED');
  assert.match(notWasm.message, /magic word/);
  await init(); // the package's own module
});
