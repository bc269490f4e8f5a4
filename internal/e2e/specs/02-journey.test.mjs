// The whole journey, in order: a creator opens a channel and uploads a clip;
// a viewer finds it by search, watches it (the view is counted), comments,
// likes and subscribes; the creator replies and removes a comment.
// Each step builds on the one before, so the tests run in sequence.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { assertClean, env, launch, newPage, shot, signUp, unique, until } from './lib.mjs';

const run = unique();
const creator = { name: 'Casey Creator', email: `casey-${run}@example.com`, password: 'casey-password' };
const viewer = { name: 'Vic Viewer', email: `vic-${run}@example.com`, password: 'vic-password' };
const handle = `casey_${run}`;
const firstTitle = `Test pattern ${run}`;
// A long title on purpose: it must wrap, not break the layouts.
const title = `Colour bars and a 440 Hz tone (${run}): six seconds of the test pattern every broadcast engineer knows, now with a title long enough to wrap`;
const searchWord = `pattern ${run}`;

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
  if (videoID) writeFileSync(join(env('SCREENSHOT_DIR'), 'journey.json'), JSON.stringify({ videoID, watchPath: `/watch/${videoID}` }));
  await browser?.close();
});

test('a creator signs up and opens a channel', async () => {
  await signUp(cp, creator);
  await cp.click('header a[href="/channels/new"]');
  await cp.waitForURL('**/channels/new');
  await cp.fill('#name', "Casey's Test Card Workshop");
  await cp.fill('#handle', handle);
  await cp.fill('#description', 'Test patterns, tones and calibration clips.\nNew every week.');
  await shot(cp, 'channel-new');
  await Promise.all([cp.waitForURL('**/studio**'), cp.click('main button[type=submit]')]);
  await cp.locator('main h1', { hasText: 'Studio' }).waitFor();
  assert.ok(await cp.locator('header a[href="/upload"]').isVisible(), 'a creator gets an Upload link');
  await shot(cp, 'studio-empty');
  assertClean(cp);
});

test('a handle already taken is refused with a clear message', async () => {
  const other = await newPage(browser);
  await signUp(other, { name: 'Copy Cat', email: `copy-${run}@example.com`, password: 'copycat-password' });
  await other.goto('/channels/new');
  await other.fill('#name', 'Another channel');
  await other.fill('#handle', handle.toUpperCase());
  const [resp] = await Promise.all([other.waitForResponse((r) => r.request().method() === 'POST'), other.click('main button[type=submit]')]);
  assert.equal(resp.status(), 409);
  const err = other.locator('main .error[role=alert]');
  await err.waitFor();
  assert.match(await err.textContent(), /handle/i);
  await shot(other, 'channel-handle-taken');
  assertClean(other);
  await other.context().close();
});

test('the creator uploads a clip', async () => {
  // TODO(e2e): through the /upload page once it lands on main.
  await cp.goto('/studio');
  const csrf = await cp.getAttribute('meta[name="csrf-token"]', 'content');
  const resp = await cp.request.post('/api/v1/videos', {
    headers: { 'X-CSRF-Token': csrf },
    multipart: {
      title: firstTitle,
      description: 'Uploaded by the browser journey.',
      visibility: 'public',
      file: { name: 'journey-clip.mp4', mimeType: 'video/mp4', buffer: readFileSync(env('CLIP_PATH')) },
    },
  });
  assert.equal(resp.status(), 201, await resp.text());
  videoID = (await resp.json()).id;
  assert.ok(videoID);
});

test('the studio shows the video processing, then ready', async () => {
  await cp.goto('/studio');
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
  await Promise.all([cp.waitForURL('**/edit?saved=*'), cp.click('main form[action$="/edit"] button[type=submit]')]);
  await cp.locator('main .notice').waitFor();
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
  await until('playback to advance past 1.5 s', () => vp.evaluate(() => document.getElementById('player').currentTime > 1.5));
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

test('the viewer comments, and markup in a comment stays text', async () => {
  const comments = ['What a lovely test card!', 'Is the tone exactly 440 Hz? <script>window.__pwned = 1</script>'];
  for (const body of comments) {
    await vp.fill('#comment-body', body);
    await Promise.all([vp.waitForURL(`**/watch/${videoID}**`), vp.click('form.comment-form button[type=submit]')]);
    await vp.locator('.comment-body', { hasText: body }).waitFor();
  }
  assert.equal(await vp.evaluate(() => window.__pwned), undefined, 'the script in the comment did not run');
  assert.match(await vp.locator('#comments-h').textContent(), /^\s*2 comments/);
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
  assert.equal((await sub.textContent()).trim(), 'Subscribe');
  await sub.click();
  await until('the subscription to show', async () => (await sub.textContent()).trim() === 'Subscribed');
  assert.equal((await vp.locator('.channel-line [data-subscriber-count]').textContent()).trim(), '1');
  // Both survive a reload: they were stored, not just drawn.
  await vp.reload();
  assert.equal(await vp.locator('form.reactions [data-reaction="like"]').getAttribute('aria-pressed'), 'true');
  assert.equal((await vp.locator('.channel-line form.subscribe button').textContent()).trim(), 'Subscribed');
  await shot(vp, 'watch-liked-subscribed');
  assertClean(vp);
});

test('the creator replies to a comment and removes another', async () => {
  await cp.goto(`/watch/${videoID}`);
  const first = cp.locator('li.comment', { hasText: 'What a lovely test card!' }).first();
  await Promise.all([cp.waitForURL('**reply=*'), first.locator('.comment-actions a', { hasText: 'Reply' }).click()]);
  const reply = cp.locator('textarea[id^="reply-"]');
  await reply.fill('Thank you! More test cards next week.');
  await Promise.all([cp.waitForURL(`**/watch/${videoID}**`), cp.click('form.comment-form:has(textarea[id^="reply-"]) button[type=submit]')]);
  const replyEl = cp.locator('ol.replies .comment-body', { hasText: 'Thank you! More test cards next week.' }).first();
  await replyEl.waitFor();
  await shot(cp, 'watch-creator-replied');

  const spam = cp.locator('li.comment', { hasText: 'Is the tone exactly 440 Hz?' }).first();
  await Promise.all([cp.waitForURL(`**/watch/${videoID}**`), spam.locator('button', { hasText: 'Delete' }).click()]);
  await until('the comment to go', async () => (await cp.locator('.comment-body', { hasText: 'Is the tone exactly 440 Hz?' }).count()) === 0);
  await shot(cp, 'watch-comment-removed');
  assertClean(cp);

  // The viewer sees the reply and no longer sees the removed comment.
  await vp.reload();
  await vp.locator('ol.replies .comment-body', { hasText: 'Thank you!' }).first().waitFor();
  assert.equal(await vp.locator('.comment-body', { hasText: 'Is the tone exactly 440 Hz?' }).count(), 0);
  assertClean(vp);
});

test('the channel page lists the video and counts the subscriber', async () => {
  await vp.click('.channel-line a.channel-name');
  await vp.waitForURL(`**/c/${handle}`);
  await vp.locator(`main a.vcard[href="/watch/${videoID}"]`).waitFor();
  assert.match(await vp.locator('main').textContent(), /1\s+subscriber\b/);
  await shot(vp, 'channel-page');
  assertClean(vp);
});
