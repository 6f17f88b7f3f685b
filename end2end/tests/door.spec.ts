// Issue #6 (first part): door staff check people in by ticket code — the
// answers are unmistakable, a second check-in names the first, a wrong code
// is refused, the counter follows, and a mistaken check-in can be undone.

import { expect, test, type Browser, type Page } from '@playwright/test';
import { World, logInOn } from './support';

const ADMIN = 'admin@example.co.jp';
const PASSWORD = 'correct horse battery';

let world: World;

test.beforeAll(async () => {
  world = await World.start(ADMIN, PASSWORD);
  await world.user(ADMIN, PASSWORD, 'eri@example.co.jp', 'Eri Kato', PASSWORD);
  await world.user(ADMIN, PASSWORD, 'door@example.co.jp', 'Door Staff', PASSWORD, 'staff');
});

test.afterAll(async () => {
  await world.stop();
});

async function loggedIn(browser: Browser, email: string): Promise<Page> {
  return logInOn(await (await browser.newContext()).newPage(), world.server.baseUrl, email, PASSWORD);
}

test('check in by ticket code, twice, a wrong code, and undo', async ({ browser }) => {
  const id = world.event('Door rehearsal', '受付リハーサル', 10, 2);
  const eri = await loggedIn(browser, 'eri@example.co.jp');
  await eri.goto(`${world.server.baseUrl}/events/${id}`);
  await expect(eri.locator('body[data-hydrated]')).toHaveCount(1);
  await eri.getByTestId('register').click();
  await eri.getByTestId('ticket-link').click();
  const code = (await eri.getByTestId('ticket-code').textContent())!.trim();

  const door = await loggedIn(browser, 'door@example.co.jp');
  await door.goto(`${world.server.baseUrl}/events/${id}/door`);
  await expect(door.locator('body[data-hydrated]')).toHaveCount(1);
  await expect(door.getByTestId('door-count')).toHaveText('0 / 1 checked in');

  await door.getByTestId('door-code').fill(code.toLowerCase());
  await door.getByRole('button', { name: 'Check in' }).click();
  await expect(door.getByTestId('door-answer')).toHaveAttribute('data-kind', 'ok');
  await expect(door.getByTestId('door-answer')).toContainText('Eri Kato');
  await expect(door.getByTestId('door-count')).toHaveText('1 / 1 checked in');

  await door.getByTestId('door-code').fill(code);
  await door.getByRole('button', { name: 'Check in' }).click();
  await expect(door.getByTestId('door-answer')).toHaveAttribute('data-kind', 'warn');
  await expect(door.getByTestId('door-answer')).toContainText('by Door Staff');

  await door.getByTestId('door-code').fill('ZZZZ-ZZZZ');
  await door.getByRole('button', { name: 'Check in' }).click();
  await expect(door.getByTestId('door-answer')).toHaveAttribute('data-kind', 'bad');
  await expect(door.getByTestId('door-answer')).toContainText('Not a valid ticket');

  await door.goto(`${world.server.baseUrl}/events/${id}/door?q=Eri`);
  await expect(door.locator('body[data-hydrated]')).toHaveCount(1);
  await door.getByRole('button', { name: 'Undo check-in' }).click();
  await expect(door.getByTestId('door-count')).toHaveText('0 / 1 checked in');
  expect(world.sql(`SELECT action FROM audit_log WHERE action LIKE 'check%' ORDER BY id`)).toBe('checked_in\ncheck_in_undone');
});

test('an employee cannot open the door page', async ({ browser }) => {
  const id = world.event('Closed door', '関係者のみ', 10, 2);
  const eri = await loggedIn(browser, 'eri@example.co.jp');
  const response = await eri.goto(`${world.server.baseUrl}/events/${id}/door`);
  expect(response?.status()).toBe(403);
  await expect(eri.getByTestId('login-needed')).toContainText('Not available for your role');
  // Nothing of the door is shown below the refusal.
  await expect(eri.getByTestId('door-code')).toHaveCount(0);
  await expect(eri.getByTestId('door-search')).toHaveCount(0);
  await expect(eri.getByText('Start camera')).toHaveCount(0);
  // Nor does the event page offer the door to an employee.
  await eri.goto(`${world.server.baseUrl}/events/${id}`);
  await expect(eri.locator('body[data-hydrated]')).toHaveCount(1);
  await expect(eri.getByTestId('door-link')).toHaveCount(0);
});

test('on a phone: from the event to its door, a name searched, checked in without a ticket, undone, checked in again', async ({ browser }) => {
  const id = world.event('Phone-free door', 'スマホなし受付', 10, 1);
  const eri = await loggedIn(browser, 'eri@example.co.jp');
  await eri.goto(`${world.server.baseUrl}/events/${id}`);
  await expect(eri.locator('body[data-hydrated]')).toHaveCount(1);
  await eri.getByTestId('register').click();
  await expect(eri.getByTestId('ticket-link')).toBeVisible();

  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'ja-JP' });
  const door = await logInOn(await context.newPage(), world.server.baseUrl, 'door@example.co.jp', PASSWORD);
  await door.goto(`${world.server.baseUrl}/events/${id}`);
  await expect(door.locator('body[data-hydrated]')).toHaveCount(1);
  await door.getByTestId('door-link').click();
  await expect(door).toHaveURL(new RegExp(`/events/${id}/door$`));
  await expect(door.locator('body[data-hydrated]')).toHaveCount(1);
  await expect(door.getByTestId('door-event')).toContainText('Phone-free door');
  await expect(door.getByTestId('door-code')).toBeFocused();

  await door.getByTestId('door-search').fill('Eri');
  await door.getByTestId('door-search').press('Enter');
  await expect(door.locator('body[data-hydrated]')).toHaveCount(1);
  await door.getByTestId('door-admit').click();
  await expect(door.getByTestId('door-admitted')).toContainText('Eri Kato');
  await expect(door.getByTestId('door-count')).toContainText('1');
  await door.getByTestId('door-undo').click();
  await expect(door.getByTestId('door-undone')).toBeVisible();
  await expect(door.getByTestId('door-admitted')).toHaveCount(0);
  await expect(door.getByTestId('door-admit')).toBeVisible();
  await door.getByTestId('door-admit').click();
  await expect(door.getByTestId('door-admitted')).toContainText('Eri Kato');
  await expect(door.getByTestId('door-undone')).toHaveCount(0);
  await expect(door.getByTestId('door-undo')).toBeVisible();
  const width = await door.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);
  await door.screenshot({ path: test.info().outputPath('door-phone-ja.png'), fullPage: true });
  expect(world.sql(`SELECT action FROM audit_log WHERE action LIKE 'check%' AND target = 'eri@example.co.jp' ORDER BY id DESC LIMIT 3`))
    .toBe('checked_in\ncheck_in_undone\nchecked_in');
});
