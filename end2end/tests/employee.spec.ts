// Issue #5: what an employee does, in real Chromium — browse, filter, open an
// event, register, see the ticket, download the .ics, cancel; a second person
// promoted from the waitlist; the same with JavaScript off; Japanese and
// English; and no serious accessibility violations (axe-core).

import { expect, test, type Browser, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { World } from './support';

const ADMIN = 'admin@example.co.jp';
const PASSWORD = 'correct horse battery';

let world: World;

test.beforeAll(async () => {
  world = await World.start(ADMIN, PASSWORD);
  for (const [email, name] of [
    ['aoi@example.co.jp', 'Aoi Tanaka'],
    ['ben@example.co.jp', 'Ben Sato'],
    ['chika@example.co.jp', 'Chika Mori'],
    ['dai@example.co.jp', 'Dai Ito'],
  ]) {
    await world.user(ADMIN, PASSWORD, email, name, PASSWORD);
  }
});

test.afterAll(async () => {
  await world.stop();
});

async function logIn(page: Page, email: string) {
  await page.locator('input[name="email"]').fill(email);
  await page.locator('input[name="password"]').fill(PASSWORD);
  await page.locator('form button[type="submit"]').last().click();
}

async function hydrated(page: Page) {
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
}

/** Serious or critical accessibility problems on the current page. */
async function accessibilityProblems(page: Page): Promise<string[]> {
  const source = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(source);
  const violations: { id: string; impact: string; help: string; nodes: unknown[] }[] = await page.evaluate(
    // @ts-expect-error axe is defined by the script evaluated above
    async () => (await axe.run(document, { resultTypes: ['violations'] })).violations,
  );
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.length} element(s)`);
}

test('browse, filter, open, register, ticket, calendar file, cancel', async ({ page }) => {
  const id = world.event('Rust study group', 'Rust勉強会', 5, 4, 'Room 12A');
  world.event('Budget town hall', '予算説明会', 100, 5, 'Hall');

  await page.goto(world.server.baseUrl);
  await hydrated(page);
  expect(await accessibilityProblems(page)).toEqual([]);
  await page.getByTestId('filter-form').locator('input[name="q"]').fill('Rust');
  await page.getByTestId('filter-form').getByRole('button').click();
  await expect(page).toHaveURL(/q=Rust/);
  await expect(page.locator('.event-card')).toHaveCount(1);
  await page.getByRole('link', { name: 'Rust study group' }).click();
  await expect(page).toHaveURL(`${world.server.baseUrl}/events/${id}`);
  await expect(page.getByTestId('availability')).toHaveText('5 of 5 seats left');

  await page.getByTestId('login-to-register').click();
  await logIn(page, 'aoi@example.co.jp');
  await expect(page).toHaveURL(`${world.server.baseUrl}/events/${id}`);
  await hydrated(page);
  expect(await accessibilityProblems(page)).toEqual([]);
  await page.getByTestId('register').dblclick();
  await expect(page.getByTestId('my-state')).toHaveText('You are registered.');
  await expect(page.getByTestId('availability')).toHaveText('4 of 5 seats left');
  expect(world.sql(`SELECT COUNT(*) FROM registrations WHERE event_id = ${id}`)).toBe('1');

  await page.getByTestId('ticket-link').click();
  await expect(page.getByTestId('ticket-qr').locator('svg')).toBeVisible();
  await expect(page.getByTestId('ticket-code')).toHaveText(/^[0-9A-Z]{8}$/);
  expect(await accessibilityProblems(page)).toEqual([]);

  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Add to calendar (.ics)' }).click();
  const ics = readFileSync(await (await download).path(), 'utf8');
  expect(ics).toContain('BEGIN:VCALENDAR');
  expect(ics).toContain('SUMMARY:Rust study group');
  expect(ics).toContain('LOCATION:Room 12A');

  // The list marks the events the viewer is registered for, and only those.
  await page.goto(world.server.baseUrl);
  await hydrated(page);
  await expect(page.locator(`.event-card[data-event-id="${id}"]`).getByTestId('mine-badge')).toHaveText('Registered');
  await expect(page.getByTestId('mine-badge')).toHaveCount(1);
  expect(await accessibilityProblems(page)).toEqual([]);

  await page.goto(`${world.server.baseUrl}/my-events`);
  await hydrated(page);
  await expect(page.getByTestId('upcoming')).toContainText('Rust study group');
  expect(await accessibilityProblems(page)).toEqual([]);
  await expect(page.getByTestId('feed-url')).toHaveValue(/\/calendar\/.+\.ics$/);

  await page.goto(`${world.server.baseUrl}/events/${id}`);
  await hydrated(page);
  page.once('dialog', (dialog) => dialog.accept());
  await page.getByTestId('cancel').click();
  await expect(page.getByTestId('action-done')).toHaveText('Your registration has been cancelled.');
  await expect(page.getByTestId('availability')).toHaveText('5 of 5 seats left');
  await expect(page.getByTestId('register')).toBeVisible();
});

async function loggedInPage(browser: Browser, email: string, options = {}): Promise<Page> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  await page.goto(`${world.server.baseUrl}/login`);
  await logIn(page, email);
  await expect(page.getByTestId('viewer-name')).toBeVisible();
  return page;
}

test('a person on the waitlist is promoted when a seat frees up', async ({ browser }) => {
  const id = world.event('One-seat mentoring', 'メンタリング(1名)', 1, 6);
  const ben = await loggedInPage(browser, 'ben@example.co.jp');
  const chika = await loggedInPage(browser, 'chika@example.co.jp');

  await ben.goto(`${world.server.baseUrl}/events/${id}`);
  await hydrated(ben);
  await ben.getByTestId('register').click();
  await expect(ben.getByTestId('my-state')).toHaveText('You are registered.');

  await chika.goto(`${world.server.baseUrl}/events/${id}`);
  await hydrated(chika);
  await expect(chika.getByTestId('register')).toHaveText('Join the waitlist');
  await chika.getByTestId('register').click();
  await expect(chika.getByTestId('my-state')).toHaveText('You are #1 on the waitlist.');

  ben.once('dialog', (dialog) => dialog.accept());
  await ben.getByTestId('cancel').click();
  await expect(ben.getByTestId('action-done')).toHaveText('Your registration has been cancelled.');

  await chika.goto(`${world.server.baseUrl}/my-events`);
  await hydrated(chika);
  const row = chika.locator(`.my-row[data-event-id="${id}"]`);
  await expect(row).toHaveAttribute('data-status', 'registered');
  await row.getByRole('link', { name: 'Show my ticket' }).click();
  await expect(chika.getByTestId('ticket-code')).toHaveText(/^[0-9A-Z]{8}$/);
});

test('register and cancel with JavaScript turned off', async ({ browser }) => {
  const id = world.event('Plain HTML workshop', 'HTMLだけのワークショップ', 3, 7);
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${world.server.baseUrl}/events/${id}`);
  await page.getByTestId('login-to-register').click();
  await logIn(page, 'dai@example.co.jp');
  await expect(page).toHaveURL(`${world.server.baseUrl}/events/${id}`);

  await page.getByTestId('register').click();
  await expect(page.getByTestId('my-state')).toHaveText('You are registered.');
  await expect(page.getByTestId('availability')).toHaveText('2 of 3 seats left');

  await page.getByTestId('cancel').click();
  await expect(page.getByTestId('register')).toBeVisible();
  await expect(page.getByTestId('availability')).toHaveText('3 of 3 seats left');
  expect(world.sql(`SELECT status FROM registrations WHERE event_id = ${id}`)).toBe('cancelled');
});

test('the pages speak Japanese to a Japanese browser and switch to English', async ({ browser }) => {
  const id = world.event('Japanese evening', '日本語の夕べ', 10, 8);
  const context = await browser.newContext({ locale: 'ja-JP' });
  const page = await context.newPage();
  await page.goto(world.server.baseUrl);
  await expect(page.locator('html')).toHaveAttribute('lang', 'ja');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('今後のイベント');
  await page.goto(`${world.server.baseUrl}/events/${id}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('日本語の夕べ');
  await expect(page.getByTestId('availability')).toHaveText('残り10席(定員10)');
  await expect(page.getByTestId('login-to-register')).toHaveText('ログインして参加登録');
  await expect(page.locator('time').first()).toHaveText(/\d{4}年\d{1,2}月\d{1,2}日\(.\) \d{2}:\d{2}/);

  await page.getByTestId('switch-language').click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Japanese evening');
  await expect(page.getByTestId('login-to-register')).toHaveText('Log in to register');
  await page.goto(world.server.baseUrl);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Upcoming events');
});
