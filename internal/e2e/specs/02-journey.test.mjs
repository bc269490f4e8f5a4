// The whole journey, in order: a creator opens a channel and uploads a clip;
// a viewer finds it by search, watches it (the view is counted), comments,
// likes and subscribes; the creator replies and removes a comment.
// Each step builds on the one before, so the tests run in sequence.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { T, assertClean, env, launch, newPage, shot, signUp, unique, until } from './lib.mjs';

const run = unique();
const creator = { name: T.creator, email: `casey-${run}@example.com`, password: 'casey-password' };
const viewer = { name: T.viewer, email: `vic-${run}@example.com`, password: 'vic-password' };
const handle = `casey_${run}`;
const firstTitle = T.firstTitle(run);
// A long title on purpose: it must wrap, not break the layouts.
const title = T.title(run);
const searchWord = T.searchWord(run);

let browser;
let cp; // the creator's page
let vp; // the viewer's page
let videoID;

before(async () => {
  browser = await launch();
  cp = await newPage(browser);
  vp = await newPage(browser);
});
after(async () => {
  // For the finance spec and the page-weight check that follow.
  if (videoID) writeFileSync(join(env('SCREENSHOT_DIR'), 'journey.json'), JSON.stringify({ videoID, watchPath: `/watch/${videoID}`, creator, handle }));
  await browser?.close();
});

test('a creator signs up and opens a channel', async () => {
  await signUp(cp, creator);
  await cp.click('header a[href="/channels/new"]');
  await cp.waitForURL('**/channels/new');
  await cp.fill('#name', T.channel);
  await cp.fill('#handle', handle);
  await cp.fill('#description', T.channelDesc);
  await shot(cp, 'channel-new');
  await Promise.all([cp.waitForURL('**/studio**'), cp.click('main button[type=submit]')]);
  await cp.locator('main h1', { hasText: T.studio }).waitFor();
  assert.ok(await cp.locator('header a[href="/upload"]').isVisible(), 'a creator gets an Upload link');
  await shot(cp, 'studio-empty');
  assertClean(cp);
});

test('a handle already taken is refused with a clear message', async () => {
  const other = await newPage(browser);
  await signUp(other, { name: T.other, email: `copy-${run}@example.com`, password: 'copycat-password' });
  await other.goto('/channels/new');
  await other.fill('#name', T.otherChannel);
  await other.fill('#handle', handle.toUpperCase());
  const [resp] = await Promise.all([other.waitForResponse((r) => r.request().method() === 'POST'), other.click('main button[type=submit]')]);
  assert.equal(resp.status(), 409);
  const err = other.locator('main .error[role=alert]');
  await err.waitFor();
  assert.match(await err.textContent(), T.handleTaken);
  await shot(other, 'channel-handle-taken');
  assertClean(other);
  await other.context().close();
});

test('the creator uploads a clip through the upload page, and the progress bar moves', async () => {
  await cp.click('header a[href="/upload"]');
  await cp.waitForURL('**/upload');
  await shot(cp, 'upload-form');
  await cp.setInputFiles('#file', env('CLIP_PATH'));
  assert.equal(await cp.inputValue('#title'), 'journey-clip', 'the title starts as the file name');
  await cp.fill('#title', firstTitle);
  await cp.fill('#description', T.description);
  await cp.selectOption('#visibility', 'public');
  // Record every value the page gives the progress bar.
  await cp.evaluate(() => {
    const bar = document.getElementById('progress');
    const proto = Object.getOwnPropertyDescriptor(HTMLProgressElement.prototype, 'value');
    window.__progress = [];
    Object.defineProperty(bar, 'value', {
      get() { return proto.get.call(this); },
      set(v) { window.__progress.push(Number(v)); proto.set.call(this, v); },
    });
  });
  // A slow uplink (about 700 KB/s), so that the 1.4 MB clip takes a few
  // seconds and the bar has something to show.
  const cdp = await cp.context().newCDPSession(cp);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 700 * 1024 });
  await cp.click('#start');
  await until('the upload to be part-way', () => cp.evaluate(() => window.__progress.some((v) => v > 0 && v < 100)), { every: 50 });
  assert.ok(await cp.locator('#progress-box').isVisible(), 'the progress box shows');
  assert.match(await cp.locator('#progress-text').textContent(), /%/);
  await shot(cp, 'upload-in-progress');
  await cp.locator('#done').waitFor({ timeout: 60000 });
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await cdp.detach();
  const values = await cp.evaluate(() => window.__progress);
  const between = values.filter((v) => v > 0 && v < 100);
  assert.ok(new Set(between).size >= 2, `the bar moved through several values: ${values.join(', ')}`);
  for (let i = 1; i < values.length; i++) assert.ok(values[i] >= values[i - 1] || values[i] === 0, `the bar never goes back: ${values.join(', ')}`);
  assert.equal(values.at(-1), 100);
  const link = await cp.getAttribute('#studio-link', 'href');
  videoID = decodeURIComponent((link.match(/#video-(.+)$/) || [])[1] || '');
  assert.ok(videoID, `the studio link names the video (${link})`);
  await shot(cp, 'upload-done');
  assertClean(cp);
});

test('the studio shows the video processing, then ready', async () => {
  await cp.click('#studio-link');
  await cp.waitForURL('**/studio**');
  const row = cp.locator(`tr[data-video="${videoID}"]`);
  await row.waitFor();
  if ((await row.getAttribute('data-status')) !== 'ready') await shot(cp, 'studio-processing');
  // studio.js polls and reloads the page when the status changes.
  await cp.locator(`tr[data-video="${videoID}"][data-status="ready"]`).waitFor({ timeout: 90000 });
  assert.ok(await row.locator(`a[href="/watch/${videoID}"]`).isVisible(), 'a ready video links to its watch page');
  await shot(cp, 'studio-ready');
  assertClean(cp);
});

test('the creator edits the title', async () => {
  await cp.click(`tr[data-video="${videoID}"] a[href$="/edit"]`);
  await cp.waitForURL(`**/studio/videos/${videoID}/edit`);
  assert.equal(await cp.inputValue('#title'), firstTitle);
  await cp.fill('#title', title);
  // The redirect back to the form carries its notice in the flash cookie.
  await Promise.all([cp.locator('main .notice', { hasText: T.saved }).waitFor(), cp.click('main form[action$="/edit"] button[type=submit]')]);
  assert.equal(await cp.inputValue('#title'), title);
  await shot(cp, 'video-edit-saved');
  await cp.goto('/studio');
  assert.equal((await cp.locator(`tr[data-video="${videoID}"] a[href="/watch/${videoID}"]`).textContent()).trim(), title);
  assertClean(cp);
});

test('a viewer signs up and finds the video by search', async () => {
  await signUp(vp, viewer);
  await vp.locator('main h1').waitFor();
  await shot(vp, 'home-with-video');
  await vp.fill('header input[name=q]', searchWord);
  await Promise.all([vp.waitForURL('**/search?q=*'), vp.press('header input[name=q]', 'Enter')]);
  const card = vp.locator(`main a.vcard[href="/watch/${videoID}"]`);
  await card.waitFor();
  assert.equal((await card.locator('h3').textContent()).trim(), title);
  assert.equal(await vp.inputValue('header input[name=q]'), searchWord, 'the search box keeps the words');
  await shot(vp, 'search-results');
  // A search that matches nothing is an empty result, not an error.
  await vp.goto('/search?q=' + encodeURIComponent(`zzqx${run} nothing`));
  await vp.locator('main .empty').waitFor();
  await shot(vp, 'search-empty');
  await vp.goBack();
  await Promise.all([vp.waitForURL(`**/watch/${videoID}`), vp.click(`main a.vcard[href="/watch/${videoID}"]`)]);
  assertClean(vp);
});

test('the viewer plays the video', async () => {
  assert.equal((await vp.locator('main h1').textContent()).trim(), title);
  const video = vp.locator('video#player');
  await video.waitFor();
  await vp.evaluate(() => {
    const v = document.getElementById('player');
    window.__mediaErrors = [];
    v.addEventListener('error', () => window.__mediaErrors.push(v.error ? `${v.error.code} ${v.error.message}` : 'error'));
    v.muted = true;
    return v.play();
  });
  // Paused as soon as it passed 1.5 s, before the 3 s the view needs: the
  // next test watches the count go from 0 to 1 (on a busy machine the
  // screenshots below take long enough for the beacon to report first).
  await until('playback to advance past 1.5 s', () => vp.evaluate(() => {
    const v = document.getElementById('player');
    if (v.currentTime > 1.5) v.pause();
    return v.paused && v.currentTime > 1.5;
  }));
  const state = await vp.evaluate(() => {
    const v = document.getElementById('player');
    return { error: v.error && v.error.code, errors: window.__mediaErrors, width: v.videoWidth, height: v.videoHeight, duration: v.duration };
  });
  assert.equal(state.error, null, 'no media error');
  assert.deepEqual(state.errors, []);
  assert.ok(state.width > 0 && state.height > 0, `decoded frames (${state.width}x${state.height})`);
  assert.ok(Math.abs(state.duration - 6) < 0.5, `duration about 6 s, got ${state.duration}`);
  await shot(vp, 'watch-playing');
  assertClean(vp);
});

test('the view is counted after the minimum watch time and the count goes up', async () => {
  const count = vp.locator('main [data-view-count]');
  assert.equal(await count.getAttribute('data-view-count'), '0');
  assert.equal((await count.textContent()).trim(), T.views(0));
  // UCC_VIEW_MIN_WATCH=3s for the test (and half of a 6 s clip is 3 s too).
  assert.equal(await vp.getAttribute('video#player', 'data-min-watch'), '3');
  const reported = vp.waitForResponse((r) => r.url().endsWith(`/api/v1/videos/${videoID}/views`) && r.request().method() === 'POST', { timeout: 20000 });
  await vp.evaluate(() => { const v = document.getElementById('player'); v.muted = true; return v.play(); });
  const resp = await reported;
  const body = await resp.json();
  assert.equal(body.counted, true, `the view counted: ${JSON.stringify(body)}`);
  const played = await vp.evaluate(() => document.getElementById('player').currentTime);
  assert.ok(played >= 3, `reported only after 3 s of playback (at ${played} s)`);
  await until('the count on the page to go up', async () => (await count.getAttribute('data-view-count')) === '1');
  assert.equal((await count.textContent()).trim(), T.views(1));
  await shot(vp, 'watch-view-counted');
  // A fresh page load shows it too (PostgreSQL total plus what Redis holds).
  await vp.reload();
  assert.equal((await vp.locator('main [data-view-count]').textContent()).trim(), T.views(1));
  // Watching again within the dedup window does not count twice.
  const again = vp.waitForResponse((r) => r.url().endsWith(`/api/v1/videos/${videoID}/views`) && r.request().method() === 'POST', { timeout: 20000 });
  await vp.evaluate(() => { const v = document.getElementById('player'); v.muted = true; return v.play(); });
  const second = await (await again).json();
  assert.equal(second.counted, false);
  assert.equal(second.reason, 'duplicate');
  await vp.evaluate(() => document.getElementById('player').pause());
  assert.equal((await vp.locator('main [data-view-count]').textContent()).trim(), T.views(1));
  assertClean(vp);
});

test('the viewer comments, and markup in a comment stays text', async () => {
  const comments = [T.comment1, `${T.comment2} <script>window.__pwned = 1</script>`];
  for (const body of comments) {
    await vp.fill('#comment-body', body);
    await Promise.all([vp.waitForURL(`**/watch/${videoID}**`), vp.click('form.comment-form button[type=submit]')]);
    await vp.locator('.comment-body', { hasText: body }).waitFor();
  }
  assert.equal(await vp.evaluate(() => window.__pwned), undefined, 'the script in the comment did not run');
  assert.match(await vp.locator('#comments-h').textContent(), T.comments2);
  await shot(vp, 'watch-comments');
  assertClean(vp);
});

test('the viewer likes the video and subscribes to the channel', async () => {
  const like = vp.locator('form.reactions [data-reaction="like"]');
  assert.equal(await like.getAttribute('aria-pressed'), 'false');
  await like.click();
  await until('the like to show', async () => (await like.getAttribute('aria-pressed')) === 'true');
  assert.equal((await vp.locator('form.reactions [data-likes]').textContent()).trim(), '1');

  const sub = vp.locator('.channel-line form.subscribe button');
  assert.equal((await sub.textContent()).trim(), T.subscribe);
  await sub.click();
  await until('the subscription to show', async () => (await sub.textContent()).trim() === T.subscribed);
  assert.equal((await vp.locator('.channel-line [data-subscriber-count]').textContent()).trim(), T.subscribers1);
  // Both survive a reload: they were stored, not just drawn.
  await vp.reload();
  assert.equal(await vp.locator('form.reactions [data-reaction="like"]').getAttribute('aria-pressed'), 'true');
  assert.equal((await vp.locator('.channel-line form.subscribe button').textContent()).trim(), T.subscribed);
  await shot(vp, 'watch-liked-subscribed');
  assertClean(vp);
});

test('the creator replies to a comment and removes another', async () => {
  await cp.goto(`/watch/${videoID}`);
  const first = cp.locator('li.comment', { hasText: T.comment1 }).first();
  await Promise.all([cp.waitForURL('**reply=*'), first.locator('.comment-actions a', { hasText: T.reply }).click()]);
  const reply = cp.locator('textarea[id^="reply-"]');
  await reply.fill(T.reply1);
  await Promise.all([cp.waitForURL(`**/watch/${videoID}**`), cp.click('form.comment-form:has(textarea[id^="reply-"]) button[type=submit]')]);
  const replyEl = cp.locator('ol.replies .comment-body', { hasText: T.reply1 }).first();
  await replyEl.waitFor();
  await shot(cp, 'watch-creator-replied');

  const spam = cp.locator('li.comment', { hasText: T.comment2 }).first();
  await Promise.all([cp.waitForURL(`**/watch/${videoID}**`), spam.locator('button', { hasText: T.delete }).click()]);
  await until('the comment to go', async () => (await cp.locator('.comment-body', { hasText: T.comment2 }).count()) === 0);
  await shot(cp, 'watch-comment-removed');
  assertClean(cp);

  // The viewer sees the reply and no longer sees the removed comment, and
  // answers in the thread.
  await vp.reload();
  await vp.locator('ol.replies .comment-body', { hasText: T.reply1 }).first().waitFor();
  assert.equal(await vp.locator('.comment-body', { hasText: T.comment2 }).count(), 0);
  const thread = vp.locator('li.comment', { hasText: T.comment1 }).first();
  await Promise.all([vp.waitForURL('**reply=*'), thread.locator('.comment-actions a', { hasText: T.reply }).first().click()]);
  await vp.fill('textarea[id^="reply-"]', T.reply2);
  await Promise.all([vp.waitForURL(`**/watch/${videoID}**`), vp.click('form.comment-form:has(textarea[id^="reply-"]) button[type=submit]')]);
  const replies = vp.locator('li.comment', { hasText: T.comment1 }).first().locator('ol.replies .comment-body');
  await until('both replies in the thread', async () => (await replies.allTextContents()).map((t) => t.trim()).join(' | ') === `${T.reply1} | ${T.reply2}`);
  await shot(vp, 'watch-viewer-replied');
  assertClean(vp);
});

test('the creator sees the view on the earnings page chart', async () => {
  await Promise.all([cp.waitForURL('**/earnings'), cp.click('header a[href="/earnings"]')]);
  // The flusher moves the view to PostgreSQL's daily buckets every 500 ms.
  await until('the view to reach the daily buckets', async () => {
    const bars = await cp.locator('svg.chart.days rect.bar').evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('height'))));
    if (bars.some((h) => h > 0)) return true;
    await cp.reload();
    return false;
  });
  const bars = await cp.locator('svg.chart.days rect.bar').evaluateAll((rs) => rs.map((r) => ({ h: Number(r.getAttribute('height')), title: r.textContent.trim() })));
  assert.ok(bars.length >= 28, `a bar per day (${bars.length})`);
  const today = T.day(new Date());
  const tall = bars.filter((b) => b.h > 0);
  assert.equal(tall.length, 1, `one day with views: ${JSON.stringify(tall)}`);
  assert.equal(tall[0], bars.at(-1), 'the day with the view is the last, today');
  assert.match(tall[0].title, T.dayViews1(today));
  assert.match(await cp.locator('main section.card').first().innerHTML(), T.progress);
  await shot(cp, 'earnings');
  assertClean(cp);
});

test('the viewer finds the video under Liked and in the subscriptions feed', async () => {
  for (const [link, name] of [['/liked', 'liked'], ['/feed/subscriptions', 'subscriptions-feed']]) {
    await Promise.all([vp.waitForURL(`**${link}`), vp.click(`header a[href="${link}"]`)]);
    await vp.locator(`main a.vcard[href="/watch/${videoID}"]`).waitFor();
    await shot(vp, name);
  }
  await vp.goBack();
  await vp.goBack();
  await vp.waitForURL(`**/watch/${videoID}**`);
  assertClean(vp);
});

test('the channel page lists the video and counts the subscriber', async () => {
  await vp.click('.channel-line a.channel-name');
  await vp.waitForURL(`**/c/${handle}`);
  await vp.locator(`main a.vcard[href="/watch/${videoID}"]`).waitFor();
  assert.match(await vp.locator('main').textContent(), T.channelSubscribers1);
  await shot(vp, 'channel-page');
  assertClean(vp);
});
