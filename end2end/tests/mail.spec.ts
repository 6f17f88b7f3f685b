// Issue #7: without an SMTP server Tsudoi writes its mail as .eml files to a
// folder and says so on the admin outbox page. A registration's confirmation
// and, once the reminder time has passed, the day-before reminder arrive
// there in the person's language: the reminder carries the ticket QR inline
// and the event as an .ics file, and its HTML renders in a browser.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { simpleParser, type ParsedMail } from 'mailparser';
import { World, logInOn } from './support';

const ADMIN = 'admin@example.co.jp';
const PASSWORD = 'correct horse battery';

let world: World;

test.beforeAll(async () => {
  world = await World.start(ADMIN, PASSWORD);
  await world.user(ADMIN, PASSWORD, 'eri@example.co.jp', '加藤 恵理', PASSWORD);
  world.sql(`UPDATE users SET lang = 'ja' WHERE email = 'eri@example.co.jp'`);
});

test.afterAll(async () => {
  await world.stop();
});

async function logIn(page: Page, email: string): Promise<void> {
  await logInOn(page, world.server.baseUrl, email, PASSWORD);
}

/** Every mail in the folder, parsed. */
async function mails(): Promise<ParsedMail[]> {
  const folder = join(world.server.folder, 'mail');
  let files: string[] = [];
  try {
    files = readdirSync(folder).filter((name) => name.endsWith('.eml'));
  } catch {
    return [];
  }
  return Promise.all(files.map((name) => simpleParser(readFileSync(join(folder, name)))));
}

async function mailWithSubject(prefix: string): Promise<ParsedMail> {
  let found: ParsedMail | undefined;
  await expect
    .poll(async () => {
      found = (await mails()).find((mail) => mail.subject?.startsWith(prefix));
      return found !== undefined;
    }, { timeout: 30_000 })
    .toBe(true);
  return found!;
}

test('confirmation and reminder in Japanese, written to the folder, listed on the outbox page', async ({ page, browser }) => {
  const id = world.event('Reminder rehearsal', 'リマインダー確認会', 10, 1, '本社 7F 大会議室');
  await logIn(page, 'eri@example.co.jp');
  await page.goto(`${world.server.baseUrl}/events/${id}`);
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByTestId('register').click();
  await expect(page.getByTestId('action-done')).toBeVisible();

  const confirmation = await mailWithSubject('【参加登録完了】リマインダー確認会');
  expect(confirmation.text).toContain('加藤 恵理 様');
  expect(confirmation.to && 'text' in confirmation.to ? confirmation.to.text : '').toContain('eri@example.co.jp');
  expect(confirmation.messageId).toMatch(/^<tsudoi\.\d+\.\d+@[^>]+>$/);

  // Past the reminder time: the batch runs as the server starts. When this
  // test runs after 09:00 in Tokyo, the first start already ran today's
  // batch — before the registration existed — and recorded it; forget that
  // run, as if the server had been down all day, so the restart runs it.
  world.sql(`DELETE FROM scheduled_runs WHERE job = 'reminders'`);
  await world.restart({ TSUDOI_REMINDER_TIME: '00:00' });
  const reminder = await mailWithSubject('【明日開催】リマインダー確認会');
  expect(reminder.text).toContain('本社 7F 大会議室');
  const qr = reminder.attachments.find((a) => a.contentType === 'image/png');
  const ics = reminder.attachments.find((a) => a.contentType.startsWith('text/calendar'));
  // Its own content id (RFC 2392: unique), and the HTML points at it:
  // mailparser puts the image in place of a `cid:` link only when the ids match.
  expect(qr?.cid).toMatch(/^ticket-qr\.\d+@[^>]+$/);
  expect(String(reminder.html)).not.toContain('cid:');
  expect(String(reminder.html)).toContain(`src="data:image/png;base64,${qr!.content.toString('base64')}"`);
  expect(ics?.content.toString('utf8')).toContain('SUMMARY:リマインダー確認会');
  const code = world.sql(`SELECT ticket_code FROM registrations WHERE event_id = ${id}`);
  expect(reminder.text).toContain(code);

  // The HTML part as a mail client shows it, the inline QR included.
  const html = String(reminder.html);
  const viewer = await browser.newPage({ viewport: { width: 420, height: 900 } });
  await viewer.setContent(html);
  await expect(viewer.getByText('加藤 恵理 様')).toBeVisible();
  await expect(viewer.getByRole('link', { name: 'チケットを表示' })).toHaveAttribute('href', /\/tickets\/\d+$/);
  expect(await viewer.locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(100);
  await viewer.screenshot({ path: 'test-results/mail-reminder-ja.png', fullPage: true });
  await viewer.close();

  // The outbox page says where mail goes, and lists both.
  const admin = await browser.newPage();
  await logIn(admin, ADMIN);
  await admin.goto(`${world.server.baseUrl}/admin/outbox`);
  await expect(admin.getByTestId('outbox-folder')).toContainText('No SMTP server is configured');
  await expect(admin.getByTestId('outbox-table').locator('tr[data-status="sent"]')).toHaveCount(2);
  await expect(admin.getByTestId('outbox-table')).toContainText('Reminder');
  await expect(admin.getByTestId('outbox-counts').locator('[data-status="sent"]')).toContainText('(2)');
});
