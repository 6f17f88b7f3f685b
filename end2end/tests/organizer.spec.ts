// Issue #8: an organizer creates and publishes an event, an employee
// registers, and the organizer's dashboard shows the registration and the
// department; the attendee CSV opens in Excel with correct Japanese.

import { expect, test, type Browser, type Page } from '@playwright/test';
import { World, logInOn } from './support';

const ADMIN = 'admin@example.co.jp';
const PASSWORD = 'correct horse battery';

let world: World;

test.beforeAll(async () => {
  world = await World.start(ADMIN, PASSWORD);
  await world.user(ADMIN, PASSWORD, 'org@example.co.jp', 'Oda Organizer', PASSWORD, 'organizer');
  await world.user(ADMIN, PASSWORD, 'eri@example.co.jp', '加藤 恵理', PASSWORD);
});

test.afterAll(async () => {
  await world.stop();
});

async function loggedIn(browser: Browser, email: string): Promise<Page> {
  return logInOn(await (await browser.newContext()).newPage(), world.server.baseUrl, email, PASSWORD);
}

/** `days` from now at 18:00 local, as a datetime-local value. */
function localTime(days: number, hour: number): string {
  const at = new Date(Date.now() + days * 86_400_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(hour)}:00`;
}

test('an organizer creates and publishes an event; a registration shows on the dashboard with its department', async ({ browser }) => {
  const org = await loggedIn(browser, 'org@example.co.jp');
  await org.getByTestId('organize-link').click();
  await expect(org.getByRole('heading', { name: 'Events you organize' })).toBeVisible();
  await org.getByTestId('new-event').click();
  await expect(org.locator('body[data-hydrated]')).toHaveCount(1);
  const form = org.getByTestId('event-form');
  await form.locator('input[name="title_ja"]').fill('新人歓迎ランチ会');
  await form.locator('input[name="title_en"]').fill('Welcome lunch');
  await form.locator('textarea[name="description_en"]').fill('Meet the new colleagues.');
  await form.locator('select[name="category"]').selectOption('social');
  await form.locator('input[name="place"]').fill('本社 12F カフェテリア');
  // The end before the start is refused with a message, nothing saved.
  await form.locator('input[name="starts"]').fill(localTime(5, 12));
  await form.locator('input[name="ends"]').fill(localTime(5, 11));
  await form.locator('input[name="capacity"]').fill('40');
  await org.getByTestId('save-event').click();
  await expect(org.getByTestId('error-ends_at')).toContainText('must end after it starts');
  await form.locator('input[name="ends"]').fill(localTime(5, 13));
  await org.getByTestId('save-event').click();

  await expect(org).toHaveURL(/\/organize\/\d+$/);
  const id = Number(new URL(org.url()).pathname.split('/').pop());
  await expect(org.getByTestId('event-status')).toHaveText('Draft');
  await expect(org.getByTestId('stat-registered')).toHaveText('0 / 40');
  await org.getByTestId('publish').click();
  await expect(org.getByTestId('event-status')).toHaveText('Published');

  // An employee finds it and registers.
  const eri = await loggedIn(browser, 'eri@example.co.jp');
  await eri.goto(`${world.server.baseUrl}/events/${id}`);
  await expect(eri.locator('body[data-hydrated]')).toHaveCount(1);
  await eri.getByTestId('register').click();
  await expect(eri.getByTestId('action-done')).toBeVisible();
  // Employees have no organizer pages.
  expect((await eri.goto(`${world.server.baseUrl}/organize/${id}`))?.status()).toBe(403);

  await org.reload();
  await expect(org.getByTestId('stat-registered')).toHaveText('1 / 40');
  const departments = org.getByTestId('chart-departments');
  await expect(departments.locator('[data-label="開発部"]')).toHaveAttribute('data-value', '1');
  await expect(org.getByTestId('chart-days').locator('.bar-row')).toHaveCount(1);

  // A new place reaches the person registered.
  await org.goto(`${world.server.baseUrl}/organize/${id}/edit`);
  await expect(org.locator('body[data-hydrated]')).toHaveCount(1);
  await org.getByTestId('event-form').locator('input[name="place"]').fill('本社 3F 会議室 B');
  await org.getByTestId('save-event').click();
  await expect(org.getByTestId('notified')).toContainText('1 registered or waiting will get a mail');
  expect(world.sql(`SELECT count(*) FROM mail_outbox WHERE kind = 'event_changed'`)).toBe('1');

  // The attendee list, and the CSV for Excel.
  await org.goto(`${world.server.baseUrl}/organize/${id}/attendees`);
  await expect(org.getByTestId('attendees')).toContainText('加藤 恵理');
  const csv = await org.request.get(`${world.server.baseUrl}/api/organize/attendees.csv?event_id=${id}`);
  expect(csv.status()).toBe(200);
  expect(csv.headers()['content-type']).toContain('text/csv');
  expect(csv.headers()['content-disposition']).toContain('attachment');
  const bytes = await csv.body();
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const text = bytes.subarray(3).toString('utf8');
  expect(text.split('\r\n')[1]).toMatch(/^加藤 恵理,eri@example.co.jp,開発部,/);

  // Administrators see it in the overview across events.
  const admin = await loggedIn(browser, ADMIN);
  await admin.goto(`${world.server.baseUrl}/admin/overview`);
  await expect(admin.getByTestId('months')).toContainText('1 / 40');
  await expect(admin.getByTestId('chart-months').locator('.bar-row').first()).toBeVisible();
});
