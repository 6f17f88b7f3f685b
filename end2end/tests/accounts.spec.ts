// Issue #4: logging in and out in real Chromium — hydrated and with JavaScript
// off — under the nonce Content-Security-Policy, a cross-site form refused,
// and the admin CSV upload reporting its bad lines.

import { expect, test, type Page } from '@playwright/test';
import { Tsudoi } from './support';

const EMAIL = 'aiko.admin@example.co.jp';
const NAME = '管理 愛子';
const PASSWORD = 'correct horse battery';

let server: Tsudoi;

test.beforeAll(async () => {
  const folder = Tsudoi.emptyFolderWithBinary();
  Tsudoi.runAlone(folder, ['create-admin', '--email', EMAIL, '--name', NAME, '--lang', 'en'], {}, `${PASSWORD}\n`);
  server = await Tsudoi.serve(folder);
});

test.afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

/** Collects what the browser says about blocked scripts or styles. */
function policyViolations(page: Page): string[] {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) violations.push(message.text());
  });
  return violations;
}

async function logIn(page: Page, password: string) {
  await page.getByLabel('E-mail address').fill(EMAIL);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

test('log in, see your name, log out (hydrated)', async ({ page }) => {
  const violations = policyViolations(page);
  await page.goto(`${server.baseUrl}/login`);
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);

  await logIn(page, 'not my password');
  await expect(page.getByTestId('login-error')).toContainText('not correct');

  await logIn(page, PASSWORD);
  await expect(page.getByTestId('viewer-name')).toHaveText(NAME);
  await expect(page).toHaveURL(`${server.baseUrl}/`);

  await page.getByTestId('log-out').click();
  await expect(page.getByTestId('logged-out')).toBeVisible();
  await expect(page.getByTestId('viewer-name')).toHaveCount(0);
  await page.goto(`${server.baseUrl}/account`);
  await expect(page.getByTestId('login-needed')).toContainText('Please log in');
  expect(violations).toEqual([]);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('log in, see your name, log out', async ({ page }) => {
    await page.goto(`${server.baseUrl}/account`);
    await page.getByRole('link', { name: 'Log in' }).last().click();
    await expect(page).toHaveURL(/\/login\?next=%2Faccount|\/login\?next=\/account/);

    await logIn(page, 'not my password');
    await expect(page.getByTestId('login-error')).toContainText('not correct');

    await logIn(page, PASSWORD);
    await expect(page).toHaveURL(`${server.baseUrl}/account`);
    await expect(page.getByTestId('viewer-name')).toHaveText(NAME);

    await page.getByTestId('log-out').click();
    await expect(page.getByTestId('logged-out')).toBeVisible();
    await expect(page.getByTestId('viewer-name')).toHaveCount(0);
  });
});

test('a form on another site cannot post to Tsudoi', async ({ page }) => {
  await page.goto(`${server.baseUrl}/login`);
  await logIn(page, PASSWORD);
  await expect(page.getByTestId('viewer-name')).toHaveText(NAME);

  // A page on a foreign origin with a form aimed at Tsudoi's logout.
  await page.route('http://evil.test/**', (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<form method="post" action="${server.baseUrl}/api/auth/logout"><button>Win a prize</button></form>`,
    }),
  );
  await page.goto('http://evil.test/prize');
  const refused = page.waitForResponse(`${server.baseUrl}/api/auth/logout`);
  await page.getByRole('button', { name: 'Win a prize' }).click();
  expect((await refused).status()).toBe(403);

  await page.goto(`${server.baseUrl}/account`);
  await expect(page.getByTestId('viewer-name')).toHaveText(NAME);
});

test('an administrator uploads employees and sees every rejected line', async ({ page }) => {
  await page.goto(`${server.baseUrl}/login?next=/admin/users`);
  await logIn(page, PASSWORD);
  await expect(page).toHaveURL(`${server.baseUrl}/admin/users`);
  const csv = [
    'email,name,department,role',
    'hanako@example.co.jp,佐藤 花子,人事部,employee',
    'not-an-address,誰か,人事部,employee',
    'jiro@example.co.jp,鈴木 次郎,開発部,wizard',
    'taro@example.co.jp,山田 太郎,開発部,staff',
  ].join('\n');
  await page.getByText('Import employees').click();
  await page.getByLabel('CSV file').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.getByRole('button', { name: 'Import' }).click();
  const report = page.getByTestId('import-report');
  await expect(report).toContainText('2 created, 0 updated, 0 unchanged, 2 lines not imported.');
  await expect(report).toContainText('Line 3:');
  await expect(report).toContainText('Line 4: unknown role “wizard”');
  await expect(page.getByTestId('users-table')).toContainText('佐藤 花子');
});
