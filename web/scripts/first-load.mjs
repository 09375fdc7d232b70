// How fast the console's first page is usable: a fresh browser context (empty cache) opens
// /console/ and waits until the sign-in form's button can be clicked. The baseline, in the
// same run, is the same browser loading a trivial page from the same server (/healthz),
// so the ratio says what the console adds on top of a round trip and a browser tab.
//
//   node scripts/first-load.mjs http://127.0.0.1:8080 [runs]

import { chromium } from '@playwright/test';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const runs = Number(process.argv[3] ?? 15);
const browser = await chromium.launch({
  executablePath: process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});

async function timed(url, ready) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const started = performance.now();
  await page.goto(url);
  await ready(page);
  const elapsed = performance.now() - started;
  await context.close();
  return elapsed;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const baseline = [];
const console_ = [];
for (let i = 0; i < runs; i++) {
  baseline.push(await timed(`${base}/healthz`, (p) => p.waitForLoadState('load')));
  console_.push(
    await timed(`${base}/console/`, (p) => p.getByRole('button', { name: 'Sign in' }).click({ trial: true })),
  );
}
await browser.close();
const b = median(baseline);
const c = median(console_);
console.log(`runs ${runs}: /healthz median ${b.toFixed(0)} ms; console sign-in usable median ${c.toFixed(0)} ms (max ${Math.max(...console_).toFixed(0)} ms); ratio ${(c / b).toFixed(1)}x`);
