// Finance, a month later: a finance user (made with `ucc users create --role
// finance` by the Go harness) creates the revenue period of the journey's
// month, calculates and approves it, and downloads the CSV, which must agree
// with the page. Then the creator from the journey sees the finalized
// earnings. Runs after 02-journey (which leaves journey.json: its creator
// and their one view) once the harness has let the month pass.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { T, assertClean, env, grouped, launch, logIn, newPage, shot } from './lib.mjs';

const finance = { email: env('FINANCE_EMAIL'), password: env('FINANCE_PASSWORD'), name: T.finance };
const journey = JSON.parse(readFileSync(join(env('SCREENSHOT_DIR'), 'journey.json'), 'utf8'));
// The month that holds the journey's view: the Go harness has let a month
// pass (moved the daily view buckets a month back), so it is over and can be
// calculated.
const period = env('PERIOD');
// R = 1,000.00 USD, s = 55 %, T = 1 view: the journey's creator (1 view of
// the 1 counted this month) is the only eligible creator, so E is
// floor(R × s / 10000) = 550.00 and the platform keeps 450.00.
const revenue = { major: '1000.00', minor: 100000, shareBps: 5500 };
const pool = Math.floor((revenue.minor * revenue.shareBps) / 10000);
const money = (minor) => (minor / 100).toFixed(2);

let browser;
let page;

before(async () => {
  browser = await launch();
  page = await newPage(browser);
});
after(async () => {
  await browser?.close();
});

/** parseCSV reads RFC 4180 CSV (quoted fields, doubled quotes, CRLF). */
function parseCSV(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (ch === '"') { quoted = false; } else { field += ch; }
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === ',') {
      row.push(field); field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else {
      field += ch;
    }
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  const [header, ...records] = rows;
  return records.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

/** rowCells reads a creators-table row as {column heading: cell text}. */
async function rowCells(row) {
  const heads = (await page.locator('main table thead th').allTextContents()).map((h) => h.replace(/[▲▼]/g, '').trim());
  const cells = (await row.locator('td').allTextContents()).map((c) => c.trim());
  return Object.fromEntries(heads.map((h, i) => [h, cells[i]]));
}

/** stat reads a figure from the period page's totals cards by heading. */
async function stat(heading) {
  const card = page.locator('section.stats .card', { has: page.locator('h3', { hasText: new RegExp(`^\\s*${heading}\\s*$`) }) });
  return (await card.locator('p').textContent()).trim();
}

test('only finance can open the finance pages', async () => {
  const resp = await page.goto('/finance');
  assert.ok([401, 403].includes(resp.status()) || new URL(page.url()).pathname === '/login', `a visitor is kept out (${resp.status()} ${page.url()})`);
  await shot(page, 'finance-visitor');
  page.problems.splice(0);
});

test('a finance user logs in and creates the period', async () => {
  await logIn(page, finance);
  await Promise.all([page.waitForURL('**/finance'), page.click('header a[href="/finance"]')]);
  await page.locator('main h1', { hasText: T.revenuePeriods }).waitFor();
  await shot(page, 'finance-empty');
  // A bad amount is refused with a message.
  await page.fill('#period', period);
  await page.fill('#revenue', 'lots');
  await page.fill('#currency', 'USD');
  const [bad] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('main form.period-form button[type=submit]')]);
  assert.equal(bad.status(), 400);
  await page.locator('main .error[role=alert]').waitFor();
  await shot(page, 'finance-bad-amount');
  await page.fill('#period', period);
  await page.fill('#revenue', revenue.major);
  await page.fill('#currency', 'USD');
  await page.fill('#creator_share_bps', String(revenue.shareBps));
  await page.fill('#view_threshold', '1');
  await page.fill('#min_payout_minor', '0');
  await Promise.all([page.waitForURL(`**/finance/periods/${period}`), page.click('main form.period-form button[type=submit]')]);
  await page.locator('main h1', { hasText: period }).waitFor();
  assert.match(await page.locator('main h1').textContent(), T.open);
  await shot(page, 'finance-period-open');
  assertClean(page);
});

// flashAfter is the page's flash once an action answered: its notice
// matching text, or an error (which the tests then report).
const flashAfter = (text) => page.locator('main .flash.notice', { hasText: text }).or(page.locator('main .flash.error')).first();

test('the period is calculated: one eligible creator with the one view', async () => {
  // Each action redirects back to the period with its notice (or error) in the flash cookie.
  await Promise.all([flashAfter(/Calculated|계산 완료/).waitFor(), page.click('main form[action$="/calculate"] button')]);
  assert.equal(await page.locator('main .error').count(), 0, await page.locator('main').textContent());
  await page.locator('main h1', { hasText: T.calculated }).waitFor();
  assert.equal(await stat(T.revenueR), `${grouped(revenue.major)} USD`);
  assert.equal(await stat(T.poolE), `${grouped(money(pool))} USD`);
  assert.equal(await stat(T.platform), `${grouped(money(revenue.minor - pool))} USD`);
  assert.equal(await stat(T.viewsV), '1');
  assert.equal(await stat(T.eligibleCreators), T.of(1, 1));
  const row = page.locator('main table tbody tr', { hasText: `@${journey.handle}` });
  await row.waitFor();
  const cells = await rowCells(row);
  assert.equal(cells[T.col.periodViews], '1');
  assert.equal(cells[T.col.amount], grouped(money(pool)));
  assert.equal(cells[T.col.eligible], T.yes);
  assert.ok(await page.locator('svg.chart rect.bar').count() >= 1, 'the top earners chart has a bar');
  await shot(page, 'finance-period-calculated');
  assertClean(page);
});

test('the period is approved and the CSV agrees with the page', async () => {
  await Promise.all([flashAfter(/approved|ledger|승인/i).waitFor(), page.click('main form[action$="/approve"] button')]);
  assert.equal(await page.locator('main .error').count(), 0, await page.locator('main').textContent());
  await page.locator('main h1', { hasText: T.approved }).waitFor();
  assert.equal(await page.locator('main form[action$="/calculate"]').count(), 0, 'an approved period cannot be recalculated');
  await shot(page, 'finance-period-approved');

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('main a[href$="/payouts.csv"]')]);
  assert.equal(download.suggestedFilename(), `ucc-payouts-${period}.csv`);
  const file = await download.path();
  const records = parseCSV(readFileSync(file, 'utf8'));
  const creators = records.filter((r) => r.record === 'creator');
  const total = records.find((r) => r.record === 'total');
  assert.ok(total, 'a totals line');
  assert.equal(records.at(-1), total, 'the totals line is last');
  // The CSV (plain numbers, for machines) against the page's totals (grouped, for people).
  assert.equal(`${grouped(total.revenue)} ${total.currency}`, await stat(T.revenueR));
  assert.equal(`${grouped(total.amount)} ${total.currency}`, await stat(T.poolE));
  assert.equal(`${grouped(total.platform_share)} ${total.currency}`, await stat(T.platform));
  assert.equal(grouped(total.period_views), await stat(T.viewsV));
  assert.equal(T.of(total.eligible, creators.length), await stat(T.eligibleCreators));
  assert.equal(total.status, 'approved');
  // The lines add up to the totals, to the cent.
  const cents = (s) => Math.round(Number(s) * 100);
  assert.equal(creators.reduce((n, r) => n + cents(r.amount), 0), cents(total.amount));
  assert.equal(cents(total.amount) + cents(total.platform_share), cents(total.revenue));
  assert.equal(creators.reduce((n, r) => n + Number(r.period_views), 0), Number(total.period_views));
  // The journey's creator: one view, eligible, the whole pool.
  const line = creators.find((r) => r.channel_handle === journey.handle);
  assert.ok(line, `a line for @${journey.handle}: ${JSON.stringify(creators)}`);
  assert.equal(line.period_views, '1');
  assert.equal(line.eligible, 'true');
  assert.equal(line.amount, money(pool));
  assert.equal(line.has_payout_profile, 'false');
  // And the page's row for that creator shows the same amount.
  const cells = await rowCells(page.locator('main table tbody tr', { hasText: `@${journey.handle}` }));
  assert.equal(cells[T.col.amount], grouped(line.amount));
  assert.equal(cells[T.col.payable], grouped(line.payable));
  assert.equal(cells[T.col.periodViews], grouped(line.period_views));
  assert.equal(cells[T.col.lifetimeViews], grouped(line.lifetime_views));
  assert.equal(cells[T.col.share], `${line.share_of_views_pct}%`);
  assertClean(page);
});

test('finance records the payment', async () => {
  await page.fill('form.pay-form #reference', `SEPA-${period}-1`);
  await Promise.all([flashAfter(T.recorded).waitFor(), page.click('form.pay-form button[type=submit]')]);
  assert.equal(await page.locator('main .error').count(), 0, await page.locator('main').textContent());
  assert.match(await page.locator('main .notice').textContent(), T.recorded1);
  const cells = await rowCells(page.locator('main table tbody tr', { hasText: `@${journey.handle}` }));
  assert.match(cells[T.col.status], new RegExp(`^${T.paid}\\s+\\(SEPA-${period}-1\\)$`));
  await shot(page, 'finance-period-paid');
  assertClean(page);
});

test('the creator sees the finalized earnings', async () => {
  const cp = await newPage(browser);
  await logIn(cp, journey.creator);
  await Promise.all([cp.waitForURL('**/earnings'), cp.click('header a[href="/earnings"]')]);
  const row = cp.locator('main table tbody tr', { hasText: period });
  await row.waitFor();
  const cells = (await row.locator('td').allTextContents()).map((c) => c.trim());
  assert.ok(cells.includes(`${grouped(money(pool))} USD`), `earned ${money(pool)} USD: ${cells}`);
  assert.ok(cells.includes(T.paid), `paid: ${cells}`);
  await shot(cp, 'earnings-finalized');
  assertClean(cp);
  await cp.context().close();
});
