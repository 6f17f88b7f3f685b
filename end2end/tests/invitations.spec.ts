// Imported people get in by mail: an administrator uploads the employee file
// as Excel writes it on a Japanese Windows (Shift_JIS, Japanese headers),
// invites everyone without a password, and an employee opens the mail as a
// real SMTP server (aiosmtpd) received it, sets a password, is signed in and
// registers. The link works once. "Forgot your password?" works the same
// way and answers alike for an address nobody has.

import { execFileSync } from 'node:child_process';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { type ParsedMail } from 'mailparser';
import { MailServer, PYTHON, World, addressOf, logInOn } from './support';

const ADMIN = 'admin@example.co.jp';
const PASSWORD = 'correct horse battery';

/** The password link in a mail's text and its HTML button alike. */
function passwordLink(mail: ParsedMail): string {
  const inText = String(mail.text).match(/https?:\/\/\S+\/password\/[A-Za-z0-9_-]+/)?.[0];
  expect(inText, 'a link in the text part').toBeTruthy();
  expect(String(mail.html)).toContain(`href="${inText}"`);
  return inText!;
}

/** The employee file as Excel saves "CSV" on a Japanese Windows: Shift_JIS. */
function shiftJis(text: string): Buffer {
  return execFileSync(PYTHON, ['-c', 'import sys; sys.stdout.buffer.write(sys.stdin.read().encode("cp932"))'], { input: text });
}

let smtp: MailServer;
let world: World;

test.beforeAll(async () => {
  smtp = await MailServer.start();
  world = await World.start(ADMIN, PASSWORD);
  await world.restart({ TSUDOI_SMTP_URL: `smtp://127.0.0.1:${smtp.port}` });
});

test.afterAll(async () => {
  await world.stop();
  smtp.stop();
});

async function setPassword(browser: Browser, link: string, password: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'ja-JP' });
  await page.goto(link);
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByLabel('新しいパスワード(10文字以上)').fill(password);
  await page.getByLabel('新しいパスワード(確認)').fill(password);
  await page.getByRole('button', { name: 'パスワードを設定してサインイン' }).click();
  await expect(page.getByTestId('viewer-name')).toBeVisible();
  return page;
}

test('imported from Shift_JIS, invited, signed in from the mail, registered; the link works once', async ({ page, browser }) => {
  const eventId = world.event('Onboarding lunch', '新入社員ランチ会', 20);

  await logInOn(page, world.server.baseUrl, ADMIN, PASSWORD);
  await page.goto(`${world.server.baseUrl}/admin/users`);
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  const csv = [
    'メールアドレス,氏名,フリガナ,部署,権限',
    'miki@example.co.jp,山田 美紀,やまだ みき,営業部,社員',
    'sho@example.co.jp,渡辺 翔,わたなべ しょう,開発部,社員',
    'ren@example.co.jp,井上 蓮,いのうえ れん,総務部,受付スタッフ',
  ].join('\r\n');
  await page.getByText('Import employees').click();
  await page.getByLabel('CSV file').setInputFiles({ name: '社員一覧.csv', mimeType: 'text/csv', buffer: shiftJis(csv) });
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page.getByTestId('import-report')).toContainText('3 created');

  // Nobody imported can sign in yet, and the list says so.
  await page.goto(`${world.server.baseUrl}/admin/users?without_password=1`);
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  const table = page.getByTestId('users-table');
  await expect(table.locator('tbody tr')).toHaveCount(3);
  await expect(table.locator('tr[data-user="miki@example.co.jp"] [data-testid="sign-in"]')).toContainText('No password yet');

  page.once('dialog', (dialog) => dialog.accept());
  await page.getByTestId('invite-everyone').click();
  await expect(page.getByTestId('invited')).toContainText('3 invitations are on their way');

  // The mail, in Japanese (imported people start in Japanese), as the SMTP server got it.
  const invitation = await smtp.mailTo('miki@example.co.jp', '【Tsudoi】社内イベントサイトのアカウントのご案内');
  expect(invitation.text).toContain('山田 美紀 様');
  const link = passwordLink(invitation);
  // The link names this server (by the public address it was given, or
  // "localhost" and its port when it was not told one).
  const site = new URL(link).origin;
  expect(new URL(link).port).toBe(new URL(world.server.baseUrl).port);

  const miki = await setPassword(browser, link, 'miki-no-himitsu');
  await expect(miki).toHaveURL(`${site}/`);
  await expect(miki.getByTestId('viewer-name')).toHaveText('山田 美紀');
  await miki.goto(`${site}/events/${eventId}`);
  await expect(miki.locator('body[data-hydrated]')).toHaveCount(1);
  // With the keyboard: the answer takes the focus the pressed button had.
  await miki.getByTestId('register').focus();
  await miki.keyboard.press('Enter');
  await expect(miki.getByTestId('action-done')).toBeFocused();
  await miki.close();

  // The same link a second time: refused, with the way to a new one.
  const again = await browser.newPage({ locale: 'ja-JP' });
  await again.goto(link);
  await expect(again.getByTestId('link-unusable')).toContainText('すでに使われています');
  await expect(again.getByRole('link', { name: '新しいリンクを受け取る' })).toHaveAttribute('href', '/forgot-password');
  await again.close();

  // The list now shows her as able to sign in; the others still wait.
  await page.goto(`${world.server.baseUrl}/admin/users`);
  await expect(page.getByTestId('users-table').locator('tr[data-user="miki@example.co.jp"] [data-testid="sign-in"]')).toContainText('Can sign in');
  await expect(page.getByTestId('users-table').locator('tr[data-user="sho@example.co.jp"] [data-testid="sign-in"]')).toContainText('No password yet');

  // The administrator can read Sho's invitation on the outbox page, but not
  // the secret of its link: reading mail is no way into his account.
  await page.goto(`${world.server.baseUrl}/admin/outbox`);
  await page.getByTestId('outbox-table').locator('tr', { hasText: 'sho@example.co.jp' }).getByTestId('read-mail').click();
  const preview = page.getByTestId('mail-preview');
  await expect(preview).toContainText('【Tsudoi】社内イベントサイトのアカウントのご案内');
  await expect(preview).toContainText('/password/…');
  const sho = await smtp.mailTo('sho@example.co.jp', '【Tsudoi】');
  const shoToken = passwordLink(sho).split('/password/')[1];
  expect(await preview.textContent()).not.toContain(shoToken);
});

test('forgot password: a link by mail for a known address, the same answer for an unknown one', async ({ browser }) => {
  await world.user(ADMIN, PASSWORD, 'aya@example.co.jp', '佐藤 彩', 'the old password');
  world.sql(`UPDATE users SET lang = 'ja' WHERE email = 'aya@example.co.jp'`);

  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'ja-JP' });
  await page.goto(`${world.server.baseUrl}/login`);
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByTestId('forgot-password').click();
  await expect(page).toHaveURL(`${world.server.baseUrl}/forgot-password`);

  await page.getByLabel('メールアドレス').fill('nobody@example.co.jp');
  await page.getByRole('button', { name: 'リンクを送信' }).click();
  const unknownAnswer = await page.getByTestId('reset-sent').textContent();

  await page.goto(`${world.server.baseUrl}/forgot-password`);
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByLabel('メールアドレス').fill('AYA@example.co.jp');
  await page.getByRole('button', { name: 'リンクを送信' }).click();
  await expect(page.getByTestId('reset-sent')).toHaveText(unknownAnswer!);
  await page.close();

  const reset = await smtp.mailTo('aya@example.co.jp', '【Tsudoi】パスワード再設定のご案内');
  expect(reset.text).toContain('佐藤 彩 様');
  const aya = await setPassword(browser, passwordLink(reset), 'a brand new secret');
  await expect(aya.getByTestId('viewer-name')).toHaveText('佐藤 彩');
  await aya.close();
  // Nothing was sent for the unknown address.
  expect((await smtp.received()).filter((mail) => addressOf(mail) === 'nobody@example.co.jp')).toHaveLength(0);
  // The old password no longer works; the new one does.
  const check = await browser.newPage();
  await check.goto(`${world.server.baseUrl}/login`);
  await check.locator('input[name="email"]').fill('aya@example.co.jp');
  await check.locator('input[name="password"]').fill('the old password');
  await check.locator('form button[type="submit"]').last().click();
  await expect(check.getByTestId('login-error')).toBeVisible();
  await logInOn(check, world.server.baseUrl, 'aya@example.co.jp', 'a brand new secret');
  await check.close();
});
