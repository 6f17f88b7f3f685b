// The first hour: `tsudoi seed-demo` on an empty folder prints an account
// per role and a password; the login page lists them; each role logs in
// with them and does its main task — an employee registers and opens the
// ticket, the door staff checks that ticket in, the organizer finds the
// events they run, the administrator finds the employee.

import { expect, test, type Browser, type Page } from '@playwright/test';
import { Tsudoi, logInOn } from './support';

let server: Tsudoi;
let printed = '';

test.beforeAll(async () => {
  const folder = Tsudoi.emptyFolderWithBinary();
  printed = Tsudoi.runAlone(folder, ['seed-demo']);
  server = await Tsudoi.serve(folder);
});

test.afterAll(async () => {
  await server.stop();
});

function password(): string {
  const found = /^\s+password\s+(\S+)$/m.exec(printed);
  expect(found, printed).not.toBeNull();
  return found![1];
}

function account(role: string): string {
  const found = new RegExp(`^\\s+${role}\\s+(\\S+@\\S+)$`, 'm').exec(printed);
  expect(found, printed).not.toBeNull();
  return found![1];
}

async function loggedIn(browser: Browser, role: string): Promise<Page> {
  const page = await (await browser.newContext({ locale: 'ja-JP' })).newPage();
  return logInOn(page, server.baseUrl, account(role), password());
}

test('the login page of a demo database names each role\'s account and the password, on a phone too', async ({ browser }) => {
  for (const viewport of [{ width: 1366, height: 768 }, { width: 390, height: 844 }]) {
    const page = await (await browser.newContext({ locale: 'ja-JP', viewport })).newPage();
    await page.goto(`${server.baseUrl}/login`);
    const hint = page.getByTestId('demo-accounts');
    await expect(hint).toContainText('デモ用アカウント');
    for (const role of ['admin', 'organizer', 'staff', 'employee']) {
      await expect(hint.locator(`dd[data-role="${role}"]`)).toHaveText(account(role));
    }
    await expect(page.getByTestId('demo-password')).toHaveText(password());
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(viewport.width);
    await page.screenshot({ path: test.info().outputPath(`login-demo-${viewport.width}.png`), fullPage: true });
    await page.context().close();
  }
});

test('each role logs in with the printed account and does its main task', async ({ browser }) => {
  // The employee: an event with a free seat, registered, ticket in hand.
  const employee = await loggedIn(browser, 'employee');
  await employee.goto(`${server.baseUrl}/`);
  await expect(employee.locator('.event-card').first()).toBeVisible();
  const links = await employee.locator('a[href^="/events/"]').evaluateAll((anchors) =>
    [...new Set(anchors.map((a) => a.getAttribute('href')!).filter((href) => /^\/events\/\d+$/.test(href)))],
  );
  expect(links.length).toBeGreaterThan(5);
  let eventPath = '';
  let code = '';
  for (const href of links) {
    await employee.goto(`${server.baseUrl}${href}`);
    await expect(employee.locator('body[data-hydrated]')).toHaveCount(1);
    if ((await employee.getByTestId('ticket-link').count()) === 0) {
      if ((await employee.getByTestId('register').count()) === 0) continue;
      await employee.getByTestId('register').click();
      await expect(employee.getByTestId('action-done')).toBeVisible();
      if ((await employee.getByTestId('ticket-link').count()) === 0) continue; // on the waitlist
    }
    await employee.getByTestId('ticket-link').click();
    code = (await employee.getByTestId('ticket-code').textContent())!.trim();
    eventPath = href;
    break;
  }
  expect(code, 'no event with a free seat in the demo').not.toBe('');

  // The door staff: that ticket, typed at the door of its event.
  const staff = await loggedIn(browser, 'staff');
  await staff.goto(`${server.baseUrl}${eventPath}/door`);
  await expect(staff.locator('body[data-hydrated]')).toHaveCount(1);
  await staff.getByTestId('door-code').fill(code);
  await staff.getByTestId('door-code').press('Enter');
  await expect(staff.getByTestId('door-answer')).toHaveAttribute('data-kind', 'ok');
  await expect(staff.getByTestId('door-answer')).toContainText('社員 桜');

  // The organizer: the events they run are waiting for them.
  const organizer = await loggedIn(browser, 'organizer');
  await organizer.getByTestId('organize-link').click();
  await expect(organizer.getByTestId('managed-events').locator('li').first()).toBeVisible();

  // The administrator: the employee is found among the people.
  const admin = await loggedIn(browser, 'admin');
  await admin.goto(`${server.baseUrl}/admin/users?q=demo.employee`);
  await expect(admin.getByTestId('users-table')).toContainText(account('employee'));
  // The audit log reads in words and the company's clock, not codes and UTC.
  await admin.goto(`${server.baseUrl}/admin/audit`);
  const audit = admin.getByTestId('audit-table');
  await expect(audit.locator('tr[data-action="checked_in"] td:nth-child(3)').first()).toHaveText('受付');
  await expect(audit.locator('tr[data-action="logged_in"] td:nth-child(3)').first()).toHaveText('ログイン');
  await expect(audit.locator('time').first()).toHaveAttribute('datetime', /\+09:00$/);
});

test('an installation that was not seeded shows no demo accounts', async ({ browser }) => {
  const folder = Tsudoi.emptyFolderWithBinary();
  const plain = await Tsudoi.serve(folder);
  try {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${plain.baseUrl}/login`);
    await expect(page.locator('input[name="email"]')).toBeVisible();
    await expect(page.getByTestId('demo-accounts')).toHaveCount(0);
    expect(plain.output.join('')).not.toContain('Demo accounts');
  } finally {
    await plain.stop();
  }
});
