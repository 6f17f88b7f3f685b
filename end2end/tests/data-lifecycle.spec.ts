// Data that outlives its purpose, as an administrator meets it in Chromium:
// a person who asks to be erased is anonymized from their row in the user
// list after a confirmation (also without JavaScript), and can no longer log
// in; the retention page shows an event past retention before the run and
// the run's figures after it, while the event's dashboard keeps its numbers.

import { expect, test, type Page } from '@playwright/test';
import { Tsudoi, World, logInOn } from './support';

const ADMIN = 'admin@example.co.jp';
const LEAVER = 'leaver@example.co.jp';
const SECOND = 'second.leaver@example.co.jp';
const PASSWORD = 'correct horse battery';

let world: World;
let oldEvent = 0;

test.beforeAll(async () => {
  world = await World.start(ADMIN, PASSWORD);
  await world.user(ADMIN, PASSWORD, LEAVER, '退職 次郎', PASSWORD);
  await world.user(ADMIN, PASSWORD, SECOND, '転職 三郎', PASSWORD);
  world.sql(`UPDATE users SET lang = 'ja' WHERE email = '${ADMIN}'`);
  // A training that ended 30 months ago, where the first leaver came.
  oldEvent = Number(
    world.sql(
      `INSERT INTO events (title_en, title_ja, description_en, description_ja, category, place, starts_at, ends_at,
                           capacity, seats_taken, status)
       VALUES ('Old training', '昔の研修', '', '', 'training', 'Room 7F', now() - interval '30 months' - interval '2 hours',
               now() - interval '30 months', 20, 1, 'published')
       RETURNING id`,
    ),
  );
  world.sql(
    `INSERT INTO registrations (event_id, user_id, status, registered_at, updated_at, checked_in_at)
     SELECT ${oldEvent}, id, 'checked_in', now() - interval '31 months', now() - interval '30 months', now() - interval '30 months'
     FROM users WHERE email = '${SECOND}'`,
  );
});

test.afterAll(async () => {
  await world.stop();
});

async function adminPage(page: Page): Promise<Page> {
  await logInOn(page, world.server.baseUrl, ADMIN, PASSWORD);
  await page.request.post(`${world.server.baseUrl}/api/lang`, { form: { lang: 'ja' } });
  return page;
}

test('an administrator anonymizes a person who asked, after confirming', async ({ page }) => {
  await adminPage(page);
  await page.goto(`${world.server.baseUrl}/admin/users?q=leaver`);
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.locator(`tr[data-user="${LEAVER}"]`).getByTestId('anonymize').click();
  await expect(page.getByTestId('person')).toContainText(LEAVER);

  // Not ticked: the browser keeps the form; the server refuses it too.
  await page.getByTestId('anonymize-now').click();
  await expect(page.getByTestId('anonymized')).toHaveCount(0);
  const id = new URL(page.url()).searchParams.get('id')!;
  const refused = await page.request.post(`${world.server.baseUrl}/api/admin/users/anonymize`, {
    form: { user_id: id },
  });
  expect(refused.status()).toBe(422);
  expect(await refused.text()).toContain('AnonymizeNotConfirmed');
  // A browser that skips the required box gets the refusal in Japanese.
  await page.getByTestId('confirm-anonymize').evaluate((box) => box.removeAttribute('required'));
  await page.getByTestId('anonymize-now').click();
  await expect(page.getByTestId('anonymize-error')).toContainText('チェックを入れてください');
  await expect(page.getByTestId('person')).toContainText(LEAVER);

  await page.getByTestId('confirm-anonymize').check();
  await page.getByTestId('anonymize-now').click();
  await expect(page.getByTestId('anonymized')).toBeVisible();
  await expect(page.getByTestId('already-anonymized')).toBeVisible();
  await expect(page.getByTestId('person')).not.toContainText(LEAVER);
  await page.screenshot({ path: test.info().outputPath('anonymized-ja.png'), fullPage: true });

  await page.goto(`${world.server.baseUrl}/admin/users?q=anonymized`);
  await expect(page.getByTestId('users-table')).toContainText('匿名化済み');
  await expect(page.getByTestId('users-table')).not.toContainText('退職 次郎');
  expect(world.sql(`SELECT COUNT(*) FROM users WHERE email = '${LEAVER}' OR display_name = '退職 次郎'`)).toBe('0');
  expect(world.sql(`SELECT COUNT(*) FROM audit_log WHERE action = 'user_anonymized'`)).toBe('1');

  // They cannot log in any more.
  const login = await page.request.post(`${world.server.baseUrl}/api/auth/login`, {
    form: { email: LEAVER, password: PASSWORD },
  });
  expect(login.ok()).toBe(false);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the confirmation and the anonymization work as plain forms', async ({ page }) => {
    await logInOn(page, world.server.baseUrl, ADMIN, PASSWORD);
    const id = world.sql(`SELECT id FROM users WHERE email = '${SECOND}'`);
    await page.goto(`${world.server.baseUrl}/admin/users/anonymize?id=${id}`);
    await expect(page.getByTestId('person')).toContainText(SECOND);
    await page.getByTestId('confirm-anonymize').check();
    await page.getByTestId('anonymize-now').click();
    await expect(page.getByTestId('already-anonymized')).toBeVisible();
    expect(world.sql(`SELECT anonymized_at IS NOT NULL FROM users WHERE id = ${id}`)).toBe('t');
  });
});

test('the retention page shows what the next run takes, then what it did; the figures stay', async ({ page }) => {
  await adminPage(page);
  await page.goto(`${world.server.baseUrl}/organize/${oldEvent}`);
  await expect(page.getByTestId('stat-registered')).toContainText('1');

  await page.goto(`${world.server.baseUrl}/admin/overview`);
  await page.getByTestId('retention-link').click();
  await expect(page.getByTestId('limits')).toContainText('24');
  await expect(page.getByTestId('due-summary')).toContainText('1件のイベント');
  await expect(page.getByTestId('due-events')).toContainText('昔の研修');
  // The server's own daily run at start found nothing: no archive.
  await expect(page.getByTestId('last-run')).not.toContainText('retention-');

  const printed = Tsudoi.runAlone(world.server.folder, ['retention', '--run'], {
    TSUDOI_DATABASE_URL: world.databaseUrl,
  });
  expect(printed).toContain('1 events (1 registrations');
  expect(world.sql(`SELECT COUNT(*) FROM registrations WHERE event_id = ${oldEvent}`)).toBe('0');

  await page.reload();
  await expect(page.getByTestId('nothing-due')).toBeVisible();
  await expect(page.getByTestId('last-run')).toContainText('retention-');
  await page.screenshot({ path: test.info().outputPath('retention-ja.png'), fullPage: true });

  // The dashboard still counts the one who came.
  await page.goto(`${world.server.baseUrl}/organize/${oldEvent}`);
  await expect(page.getByTestId('stat-registered')).toContainText('1');
});
