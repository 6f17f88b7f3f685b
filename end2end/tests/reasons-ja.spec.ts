// Rules refuse in the reader's language: five different refusals on
// Japanese pages come in Japanese — next to the field where there is one —
// and the English page says the same in English.

import { expect, test, type Browser, type Page } from '@playwright/test';
import { World, logInOn } from './support';

const ADMIN = 'admin@example.co.jp';
const PASSWORD = 'correct horse battery';

let world: World;

test.beforeAll(async () => {
  world = await World.start(ADMIN, PASSWORD);
  await world.user(ADMIN, PASSWORD, 'org@example.co.jp', '主催 太郎', PASSWORD, 'organizer');
  await world.user(ADMIN, PASSWORD, 'emp@example.co.jp', '社員 花子', PASSWORD);
  await world.user(ADMIN, PASSWORD, 'en@example.co.jp', 'Ellen English', PASSWORD, 'organizer');
  world.sql(`UPDATE users SET lang = 'ja' WHERE email IN ('org@example.co.jp', 'emp@example.co.jp')`);
});

test.afterAll(async () => {
  await world.stop();
});

async function loggedIn(browser: Browser, email: string): Promise<Page> {
  const page = await logInOn(await (await browser.newContext()).newPage(), world.server.baseUrl, email, PASSWORD);
  return page;
}

function organizedBy(email: string, id: number): void {
  world.sql(`UPDATE events SET organizer_id = (SELECT id FROM users WHERE email = '${email}') WHERE id = ${id}`);
}

/** Opens the event page, ready to press Register, then lets `change` happen behind the page's back. */
async function registerAfter(page: Page, id: number, change: string): Promise<void> {
  await page.goto(`${world.server.baseUrl}/events/${id}`);
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await expect(page.locator('html')).toHaveAttribute('lang', 'ja');
  world.sql(change);
  await page.getByTestId('register').click();
}

test('five refusals read in Japanese, next to their field where they have one', async ({ browser }) => {
  const emp = await loggedIn(browser, 'emp@example.co.jp');

  // 1. The event was cancelled while the page was open.
  const cancelled = world.event('Cancelled meanwhile', '途中で中止', 10);
  await registerAfter(emp, cancelled, `UPDATE events SET status = 'cancelled' WHERE id = ${cancelled}`);
  await expect(emp.getByTestId('action-error')).toHaveText('このイベントは中止されました。');

  // 2. Registration closed while the page was open.
  const closing = world.event('Closing', '受付終了', 10);
  await registerAfter(emp, closing, `UPDATE events SET registration_closes_at = now() - interval '1 minute' WHERE id = ${closing}`);
  await expect(emp.getByTestId('action-error')).toHaveText('このイベントの受付は終了しました。');

  // 3. Lowering the capacity below the seats taken, next to the capacity.
  const popular = world.event('Popular', '人気の研修', 5);
  organizedBy('org@example.co.jp', popular);
  await emp.goto(`${world.server.baseUrl}/events/${popular}`);
  await expect(emp.locator('body[data-hydrated]')).toHaveCount(1);
  await emp.getByTestId('register').click();
  await expect(emp.getByTestId('action-done')).toBeVisible();
  world.sql(`UPDATE events SET seats_taken = 3 WHERE id = ${popular}`);
  const org = await loggedIn(browser, 'org@example.co.jp');
  await org.goto(`${world.server.baseUrl}/organize/${popular}/edit`);
  await expect(org.locator('body[data-hydrated]')).toHaveCount(1);
  const form = org.getByTestId('event-form');
  await form.locator('input[name="capacity"]').fill('2');
  await org.getByTestId('save-event').click();
  await expect(org.getByTestId('error-capacity')).toHaveText(
    'すでに3席が埋まっているため、定員をそれより少なくできません。先に登録を取り消してください。',
  );
  await expect(form.locator('input[name="capacity"]')).toHaveAttribute('aria-invalid', 'true');
  await expect(org.getByTestId('form-error')).toHaveCount(0);

  // 4. An end before the start, next to the end.
  await form.locator('input[name="capacity"]').fill('5');
  const starts = await form.locator('input[name="starts"]').inputValue();
  await form.locator('input[name="ends"]').fill(starts.replace(/T\d\d/, 'T00'));
  await org.getByTestId('save-event').click();
  await expect(org.getByTestId('error-ends_at')).toHaveText('終了日時は開始日時より後にしてください。');
  await expect(org.getByTestId('error-capacity')).toHaveCount(0);
  await org.setViewportSize({ width: 1366, height: 768 });
  await org.getByTestId('error-ends_at').scrollIntoViewIfNeeded();
  await org.screenshot({ path: 'test-results/field-error-editor-ja-desktop.png' });

  // 5. A wrong current password, next to that field.
  await emp.goto(`${world.server.baseUrl}/account`);
  await expect(emp.locator('body[data-hydrated]')).toHaveCount(1);
  await emp.locator('input[name="current"]').fill('not my password at all');
  await emp.locator('input[name="new"]').fill('a brand new secret');
  await emp.locator('input[name="repeat"]').fill('a brand new secret');
  await emp.locator('form button[type="submit"]').last().click();
  await expect(emp.getByTestId('error-current_password')).toHaveText('現在のパスワードが正しくありません。');
  await emp.setViewportSize({ width: 390, height: 844 });
  await emp.getByTestId('error-current_password').scrollIntoViewIfNeeded();
  await emp.screenshot({ path: 'test-results/field-error-password-ja-phone.png' });
  const width = await emp.evaluate(() => document.documentElement.scrollWidth);
  expect(width, 'no sideways scrolling on a phone').toBeLessThanOrEqual(390);

  // The English page says it in English.
  const en = await loggedIn(browser, 'en@example.co.jp');
  const own = world.event('English', '英語', 5);
  organizedBy('en@example.co.jp', own);
  await en.goto(`${world.server.baseUrl}/organize/${own}/edit`);
  await expect(en.locator('body[data-hydrated]')).toHaveCount(1);
  const enForm = en.getByTestId('event-form');
  const enStarts = await enForm.locator('input[name="starts"]').inputValue();
  await enForm.locator('input[name="ends"]').fill(enStarts.replace(/T\d\d/, 'T00'));
  await en.getByTestId('save-event').click();
  await expect(en.getByTestId('error-ends_at')).toHaveText('An event must end after it starts.');
});
