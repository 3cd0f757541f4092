// The README's runnable example, run as a new user runs it: the first ```js block of README.md,
// with only its relay URL pointed at a test relay on 127.0.0.1:8117, saved as an .mjs file
// inside the repository (so `import ... from 'ringlet'` resolves through the package's own
// name, as in the README) and run with `node`. It must exit 0 and print what its comments say.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, startRelay } from './support.mjs';

const PORT = 8117;
const README_RELAY = 'ws://127.0.0.1:8080/ws';
let relay;

before(async () => { relay = await startRelay(PORT); });
after(async () => { await relay.stop(); });

/** The first ```js block of README.md. */
async function readmeExample() {
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
  const m = readme.match(/^```js\n([\s\S]*?)^```$/m);
  assert.ok(m, 'README.md has a ```js block');
  return m[1];
}

/** What the example says it prints: the trailing comment of each `console.log(...)` line. */
function expectedLines(code) {
  return code
    .split('\n')
    .filter((line) => line.includes('console.log('))
    .map((line) => line.match(/\/\/ (.*)$/)?.[1].trim())
    .filter(Boolean);
}

function runNode(file) {
  return new Promise((resolve) => {
    execFile(process.execPath, [file], { cwd: ROOT, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? error.signal) : 0, stdout, stderr });
    });
  });
}

test("the README's example runs against a relay and prints what it says", async () => {
  const code = await readmeExample();
  assert.equal(code.split(README_RELAY).length - 1, 1, `the example names the relay ${README_RELAY} once`);
  const expected = expectedLines(code);
  assert.ok(expected.length >= 4, `the example documents its output (found ${JSON.stringify(expected)})`);

  // Inside the repository, so the package resolves itself by name ('ringlet').
  const dir = path.join(ROOT, 'target', 'readme-example');
  const file = path.join(dir, `example-${process.pid}.mjs`);
  await mkdir(dir, { recursive: true });
  await writeFile(file, code.replace(README_RELAY, relay.url));
  try {
    const { code: exit, stdout, stderr } = await runNode(file);
    const what = `exit ${exit}\nstdout:\n${stdout}\nstderr:\n${stderr}`;
    assert.equal(exit, 0, what);
    const printed = stdout.split('\n').map((l) => l.trim());
    let at = 0;
    for (const line of expected) {
      const i = printed.indexOf(line, at);
      assert.ok(i >= 0, `expected the line ${JSON.stringify(line)} (in order)\n${what}`);
      at = i + 1;
    }
    assert.ok(printed.includes('RingletError INVALID_ARGUMENT'), what);
  } finally {
    await rm(file, { force: true });
  }
});
