// Accounts as a visitor meets them: the home page, sign-up, log-out, log-in,
// and the error states (wrong password, an email already taken, a page that
// does not exist).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { LANG, T, assertClean, assertLoggedInAs, launch, logIn, logOut, newPage, shot, signUp, unique } from './lib.mjs';

let browser;
let page;
const person = { name: T.person, email: `ada-${unique()}@example.com`, password: 'analytical-engine' };

before(async () => {
  browser = await launch();
  page = await newPage(browser);
});
after(async () => {
  await browser?.close();
});

test('the home page greets a visitor and offers sign-up', async () => {
  const resp = await page.goto('/');
  assert.equal(resp.status(), 200);
  assert.match(await page.title(), /UCC/);
  assert.equal(await page.getAttribute('html', 'lang'), LANG, 'the page speaks the browser\'s language');
  await page.locator('main h1').waitFor();
  assert.ok(await page.locator('header a[href="/signup"]').isVisible(), 'Sign up in the header');
  assert.ok(await page.locator('header a[href="/login"]').isVisible(), 'Log in in the header');
  await shot(page, 'home-visitor');
  assertClean(page);
});

test('a visitor signs up and is logged in', async () => {
  await page.goto('/');
  await page.click('header a[href="/signup"]');
  await page.waitForURL('**/signup');
  await shot(page, 'signup-form');
  await signUp(page, person);
  assert.equal(new URL(page.url()).pathname, '/');
  await shot(page, 'home-logged-in');
  assertClean(page);
});

test('log out, then log in again', async () => {
  await logOut(page);
  assert.equal(await page.locator('header .who').count(), 0, 'no name in the header after log-out');
  await logIn(page, person);
  assertClean(page);
});

test('a wrong password says so and keeps the email', async () => {
  await logOut(page);
  await page.goto('/login');
  await page.fill('#email', person.email);
  await page.fill('#password', 'not-the-password');
  const [resp] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('main button[type=submit]')]);
  assert.equal(resp.status(), 401);
  const error = page.locator('main .error[role=alert]');
  await error.waitFor();
  assert.match(await error.textContent(), T.wrongPassword);
  assert.equal(await page.inputValue('#email'), person.email);
  assert.equal(await page.inputValue('#password'), '', 'the password is not echoed back');
  await shot(page, 'login-wrong-password');
  assertClean(page);
});

test('signing up with an email already taken says so', async () => {
  await page.goto('/signup');
  await page.fill('#display_name', T.someone);
  await page.fill('#email', person.email.toUpperCase());
  await page.fill('#password', 'another-password');
  const [resp] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('main button[type=submit]')]);
  assert.equal(resp.status(), 409);
  const error = page.locator('main .error[role=alert]');
  await error.waitFor();
  assert.match(await error.textContent(), T.emailTaken);
  assert.ok(await page.locator('main a[href^="/login"]').isVisible(), 'a way to log in instead');
  await shot(page, 'signup-email-taken');
  assertClean(page);
});

test('log-in sends a person back to where they were going', async () => {
  await page.goto('/login?next=/signup');
  await page.fill('#email', person.email);
  await page.fill('#password', person.password);
  await Promise.all([page.waitForURL('**/signup'), page.click('main button[type=submit]')]);
  await assertLoggedInAs(page, person.name);
  await logOut(page);
  // An off-site next is ignored.
  await page.goto('/login?next=//evil.example/');
  await page.fill('#email', person.email);
  await page.fill('#password', person.password);
  await Promise.all([page.waitForURL((u) => u.pathname === '/'), page.click('main button[type=submit]')]);
  assert.ok(page.url().startsWith(process.env.BASE_URL), `stayed on the site, at ${page.url()}`);
  assertClean(page);
});

test('an address that does not exist shows a 404 page with a way home', async () => {
  const resp = await page.goto('/no/such/page');
  assert.equal(resp.status(), 404);
  assert.match(await page.locator('main h1').textContent(), T.notFound);
  const home = page.locator('main a[href="/"]');
  assert.ok(await home.isVisible(), 'a link back home');
  await shot(page, 'not-found');
  assertClean(page);
});
