// Starts the real server for the end-to-end tests: PARLEY_BIN (default
// ../target/debug/parley) with a fresh data directory on a free port; reads its URL from
// stdout and the sandbox's credentials from bootstrap.json; waits for /readyz. The
// function it returns stops the server and removes the directory.

import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ENV_KEY, type ParleyEnv } from './parley';

type Server = ChildProcessByStdio<null, Readable, Readable>;

const web = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

export default async function globalSetup(): Promise<() => Promise<void>> {
  const bin = path.resolve(web, process.env.PARLEY_BIN ?? '../target/debug/parley');
  if (!existsSync(bin)) {
    throw new Error(`no parley binary at ${bin}: build it (cargo build -p parley) or set PARLEY_BIN`);
  }
  if (!existsSync(path.join(web, 'dist', 'index.html'))) {
    throw new Error('the console is not built: run npm run build first (npm run e2e does)');
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-e2e-'));
  const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      // Templates wait for a reviewer (the test, in the console) instead of the
      // simulator's automatic review after 5 s.
      PARLEY_SIMULATOR__REVIEW_AFTER_MS: '86400000',
      RUST_LOG: process.env.RUST_LOG ?? 'warn',
    },
  });
  const output: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (running()) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timeout = new Promise((r) => setTimeout(r, 10_000));
      await Promise.race([exited, timeout]);
      if (running()) child.kill('SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    process.env[ENV_KEY] = JSON.stringify(await started(child, output));
  } catch (e) {
    await stop();
    throw e;
  }
  return stop;
}

/** The server's URL and sandbox, once it listens and is ready. */
async function started(child: Server, output: string[]): Promise<ParleyEnv> {
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`parley did not start in 60 s:\n${output.join('')}`)), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`parley exited with ${code}:\n${output.join('')}`));
    });
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      output.push(`${line}\n`);
      const m = /Listening on (http:\/\/[^\s)]+)/.exec(line);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ''));
      }
    });
  });

  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`${url}/readyz never answered 200`);
    await new Promise((r) => setTimeout(r, 100));
  }

  const bootstrap = JSON.parse(readFileSync(path.join(dataDir(child), 'bootstrap.json'), 'utf8')) as Omit<ParleyEnv, 'url'>;
  const env: ParleyEnv = { ...bootstrap, url };
  for (const key of ['apiKey', 'accountId', 'subAccountId', 'channelId', 'consoleEmail', 'consolePassword'] as const) {
    if (!env[key]) throw new Error(`bootstrap.json has no ${key}: does this parley serve the console (docs/console.md)?`);
  }
  return env;
}

function dataDir(child: Server): string {
  const i = child.spawnargs.indexOf('--data-dir');
  const dir = child.spawnargs[i + 1];
  if (i < 0 || !dir) throw new Error('parley was started without --data-dir');
  return dir;
}
