// Shared helpers for the browser specs: launching Debian's Chromium through
// playwright-core, screenshots at desktop and phone sizes, sign-up and
// log-in, and a watch on page errors. The Go harness (e2e_test.go) sets the
// environment: BASE_URL, CHROMIUM, SCREENSHOT_DIR, CLIP_PATH,
// FINANCE_EMAIL, FINANCE_PASSWORD.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { chromium } from 'playwright-core';

/** env returns a required environment variable. */
export function env(name) {
  const v = process.env[name];
  assert.ok(v, `${name} is not set; run the specs through go test ./internal/e2e/`);
  return v;
}

export const BASE_URL = env('BASE_URL');
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

const shotDir = env('SCREENSHOT_DIR');
mkdirSync(shotDir, { recursive: true });

/** unique returns a short random suffix, so runs never collide. */
export function unique() {
  return Math.random().toString(36).slice(2, 8);
}

/**
 * launch starts headless Debian Chromium with background networking off and
 * a fresh profile directory, removed by close().
 */
export async function launch() {
  // Playwright manages the profile of each context itself (a fresh temporary
  // directory per browser); this one is for Chromium's own crash and cache
  // files, so nothing lands in $HOME.
  const scratch = mkdtempSync(join(tmpdir(), 'ucc-e2e-chromium-'));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    env: { ...process.env, HOME: scratch, XDG_CONFIG_HOME: scratch, XDG_CACHE_HOME: scratch },
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage', '--disable-default-apps', '--disable-breakpad',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  const close = browser.close.bind(browser);
  browser.close = async () => {
    await close();
    rmSync(scratch, { recursive: true, force: true });
  };
  return browser;
}

/**
 * newPage opens a page in its own context (its own cookies: one person) and
 * records JavaScript errors, CSP violations and failed same-site requests so
 * that a spec can assert there were none (see assertClean).
 */
export async function newPage(browser) {
  // UCC does not count views from headless browsers (they are bots to it),
  // so the people in these specs present the User-Agent of the same
  // Chromium with a screen.
  const userAgent = `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${browser.version()} Safari/537.36`;
  const context = await browser.newContext({ baseURL: BASE_URL, viewport: DESKTOP, acceptDownloads: true, userAgent });
  context.setDefaultTimeout(30000);
  // Nothing leaves the machine: a request to anything but loopback (UCC, and
  // MinIO for the presigned video URLs) is refused and reported, whatever a
  // page links to.
  const loopback = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;
  await context.route((url) => /^(https?|wss?):$/.test(url.protocol) && !loopback.test(url.hostname), (route) => {
    page.problems.push(`request off this machine refused: ${route.request().url()}`);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (err) => page.problems.push(`JavaScript error: ${err.message}`));
  page.on('console', (msg) => {
    const text = msg.text();
    if (msg.type() === 'error' && !/status of 4\d\d/.test(text)) {
      page.problems.push(`console error: ${text}`);
    }
  });
  page.on('response', (resp) => {
    const url = resp.url();
    const broken = resp.status() >= 500 || (resp.status() >= 400 && new URL(url).pathname.startsWith('/static/'));
    if (url.startsWith(BASE_URL) && broken) {
      page.problems.push(`HTTP ${resp.status()} from ${url}`);
    }
  });
  return page;
}

/** assertClean fails when the page saw script errors or server errors. */
export function assertClean(page) {
  const problems = page.problems.splice(0);
  assert.deepEqual(problems, [], `problems on ${page.url()}`);
}

let shotNumber = 0;
// Screenshots of a spec file start with its number (node --test runs each
// file in its own process): 02-05-studio-ready-phone.png.
const shotPrefix = basename(process.argv[1] || 'spec').split(/[-.]/)[0];

/**
 * shot saves full-page screenshots of the page at the desktop and the phone
 * viewport: FF-NN-name-desktop.png and FF-NN-name-phone.png (FF: the spec
 * file's number, NN: the step). It also checks that
 * nothing sticks out sideways on the phone (no horizontal scrolling).
 */
export async function shot(page, name) {
  shotNumber++;
  const base = `${shotPrefix}-${String(shotNumber).padStart(2, '0')}-${name}`;
  const before = page.viewportSize();
  // From the top: a full-page shot of a scrolled page draws the sticky
  // header in the middle.
  const scrolled = await page.evaluate(() => window.scrollY);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: join(shotDir, `${base}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await page.screenshot({ path: join(shotDir, `${base}-phone.png`), fullPage: true });
  await page.setViewportSize(before || DESKTOP);
  await page.evaluate((y) => window.scrollTo(0, y), scrolled);
  assert.ok(overflow <= 1, `${name}: the page is ${overflow}px wider than a 390px phone screen`);
}

/** signUp creates an account through the sign-up form and stays logged in. */
export async function signUp(page, { name, email, password }) {
  await page.goto('/signup');
  await page.fill('#display_name', name);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/signup')), page.click('main button[type=submit]')]);
  await assertLoggedInAs(page, name);
}

/** logIn logs in through the log-in form. */
export async function logIn(page, { email, password, name }) {
  await page.goto('/login');
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('main button[type=submit]')]);
  if (name) await assertLoggedInAs(page, name);
}

/** logOut presses the header's Log out button. */
export async function logOut(page) {
  await Promise.all([page.waitForURL(BASE_URL + '/'), page.click('header button:has-text("Log out")')]);
  await page.locator('header a', { hasText: 'Log in' }).waitFor();
}

/** assertLoggedInAs checks the header names the person. */
export async function assertLoggedInAs(page, name) {
  const who = page.locator('header .who');
  await who.waitFor();
  assert.equal((await who.textContent()).trim(), name);
}

/** until polls fn (which returns a truthy value when done) until timeout. */
export async function until(what, fn, { timeout = 30000, every = 250 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, every));
  }
}
