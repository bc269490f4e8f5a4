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

// LANG is the language of the run (UCC_LANG: en or ko): the people's
// browsers ask for it (Accept-Language), and T holds what the pages say in
// it and what the people write.
export const LANG = process.env.UCC_LANG === 'ko' ? 'ko' : 'en';
const WORDS = {
  en: {
    locale: 'en-US', logOut: 'Log out', logIn: 'Log in',
    wrongPassword: /wrong email or password/i, emailTaken: /already exists/i, notFound: /404|not found/i, handleTaken: /handle/i,
    studio: 'Studio', saved: 'Saved.', views: (n) => `${n} view${n === 1 ? '' : 's'}`, comments2: /^\s*2 comments/,
    subscribe: 'Subscribe', subscribed: 'Subscribed', subscribers1: '1 subscriber', channelSubscribers1: /1\s+subscriber\b/,
    reply: 'Reply', delete: 'Delete', dayViews1: (day) => new RegExp(`^${day}: 1 views?$`),
    day: (d) => d.toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' }),
    progress: /<strong>1<\/strong> of the 1,000,000 views/,
    revenuePeriods: 'Revenue periods', open: /open/, calculated: 'calculated', approved: 'approved', paid: 'paid', yes: 'yes',
    revenueR: 'Revenue R', poolE: 'Creator pool E', platform: 'Platform share', viewsV: 'Views V', eligibleCreators: 'Eligible creators',
    of: (a, b) => `${a} of ${b}`, recorded: /Recorded/, recorded1: /Recorded 1 payment\b/,
    col: { periodViews: 'Period views', amount: 'Amount', eligible: 'Eligible', payable: 'Payable', lifetimeViews: 'Lifetime views', share: 'Share of views', status: 'Status' },
    creator: 'Casey Creator', viewer: 'Vic Viewer', other: 'Copy Cat', person: 'Ada Lovelace', someone: 'Someone Else', finance: 'Fiona Finance',
    channel: "Casey's Test Card Workshop", channelDesc: 'Test patterns, tones and calibration clips.\nNew every week.', otherChannel: 'Another channel',
    firstTitle: (run) => `Test pattern ${run}`,
    title: (run) => `Colour bars and a 440 Hz tone (${run}): six seconds of the test pattern every broadcast engineer knows, now with a title long enough to wrap`,
    searchWord: (run) => `pattern ${run}`, description: 'Uploaded by the browser journey.\nMore at https://example.com/test-cards',
    comment1: 'What a lovely test card!', comment2: 'Is the tone exactly 440 Hz?', reply1: 'Thank you! More test cards next week.', reply2: 'Looking forward to it!',
  },
  ko: {
    locale: 'ko-KR', logOut: '로그아웃', logIn: '로그인',
    wrongPassword: /이메일 또는 비밀번호가 틀렸습니다/, emailTaken: /이미 있습니다/, notFound: /페이지를 찾을 수 없습니다/, handleTaken: /핸들/,
    studio: '스튜디오', saved: '저장했습니다.', views: (n) => `조회수 ${n}회`, comments2: /^\s*댓글 2개/,
    subscribe: '구독', subscribed: '구독 중', subscribers1: '구독자 1명', channelSubscribers1: /구독자 1명/,
    reply: '답글', delete: '삭제', dayViews1: (day) => new RegExp(`^${day}: 조회수 1회$`),
    day: (d) => d.toLocaleDateString('ko-KR', { month: 'long', day: 'numeric', timeZone: 'UTC' }),
    progress: /광고 수익 배분 기준 1,000,000회 중 <strong>1<\/strong>회/,
    revenuePeriods: '수익 정산 기간', open: /진행 중/, calculated: '계산됨', approved: '승인됨', paid: '지급 완료', yes: '예',
    revenueR: '수익 R', poolE: '크리에이터 몫 E', platform: '플랫폼 몫', viewsV: '조회수 V', eligibleCreators: '대상 크리에이터',
    of: (a, b) => `${b}명 중 ${a}명`, recorded: /기록했습니다/, recorded1: /지급 1건을 기록했습니다/,
    col: { periodViews: '기간 조회수', amount: '금액', eligible: '대상', payable: '지급액', lifetimeViews: '누적 조회수', share: '조회수 비율', status: '상태' },
    creator: '김민수', viewer: '이지은', other: '박복사', person: '최영희', someone: '다른 사람', finance: '정산팀 정아',
    channel: '민수의 테스트 화면 공방', channelDesc: '테스트 패턴, 신호음, 보정용 영상을 올립니다.\n매주 새 영상.', otherChannel: '다른 채널',
    firstTitle: (run) => `테스트 패턴 ${run}`,
    title: (run) => `컬러 바와 440Hz 신호음 (${run}): 방송 엔지니어라면 누구나 아는 테스트 패턴 6초, 줄이 바뀔 만큼 긴 제목을 붙였습니다`,
    searchWord: () => '테스트 패턴을', description: '브라우저 여정 테스트로 올린 영상입니다.\n더 보기: https://example.com/test-cards',
    comment1: '정말 멋진 테스트 화면이네요!', comment2: '신호음이 정확히 440Hz인가요?', reply1: '감사합니다! 다음 주에 더 올릴게요.', reply2: '기대하고 있을게요!',
  },
};
export const T = WORDS[LANG];

/** grouped writes a decimal with its whole part grouped, as the pages do: 1,000.00. */
export function grouped(s) {
  const [whole, frac] = String(s).split('.');
  return whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (frac === undefined ? '' : '.' + frac);
}
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
  const context = await browser.newContext({ baseURL: BASE_URL, viewport: DESKTOP, acceptDownloads: true, userAgent, locale: T.locale });
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
  await Promise.all([page.waitForURL(BASE_URL + '/'), page.click(`header button:has-text("${T.logOut}")`)]);
  await page.locator('header a', { hasText: T.logIn }).waitFor();
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
