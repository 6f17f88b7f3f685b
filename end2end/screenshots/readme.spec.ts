// Takes the README screenshots: the event list, a ticket and an organizer's
// dashboard, in Japanese and English.

import { test } from '@playwright/test';
import { join } from 'node:path';
import { Tsudoi } from '../tests/support';

const out = (name: string) => join(__dirname, '../../docs/screenshots', name);
const ADMIN = 'it@example.co.jp';
const PASSWORD = 'correct horse battery';

test('README screenshots', async ({ browser }) => {
  test.setTimeout(120_000);
  const folder = Tsudoi.emptyFolderWithBinary();
  Tsudoi.runAlone(folder, ['seed-demo']);
  Tsudoi.runAlone(folder, ['create-admin', '--email', ADMIN, '--name', '情報 花子', '--lang', 'ja'], {}, `${PASSWORD}\n`);
  const server = await Tsudoi.serve(folder);
  try {
    for (const lang of ['ja', 'en'] as const) {
      const desktop = await browser.newContext({ viewport: { width: 1100, height: 900 }, locale: lang === 'ja' ? 'ja-JP' : 'en-US' });
      const list = await desktop.newPage();
      await list.goto(server.baseUrl);
      await list.locator('body[data-hydrated]').waitFor();
      await list.screenshot({ path: out(`events-${lang}.png`) });

      const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, locale: lang === 'ja' ? 'ja-JP' : 'en-US' });
      const page = await phone.newPage();
      await page.goto(`${server.baseUrl}/login`);
      await page.locator('input[name="email"]').fill(ADMIN);
      await page.locator('input[name="password"]').fill(PASSWORD);
      await page.locator('form button[type="submit"]').last().click();
      await page.getByTestId('viewer-name').waitFor();
      await page.request.post(`${server.baseUrl}/api/lang`, { form: { lang } });
      await page.goto(server.baseUrl);
      const links = await page.locator('.event-card:has(.availability-seats) .event-title a').evaluateAll((as) =>
        as.map((a) => a.getAttribute('href')),
      );
      for (const href of links) {
        await page.goto(`${server.baseUrl}${href}`);
        await page.locator('body[data-hydrated]').waitFor();
        if ((await page.getByTestId('ticket-link').count()) > 0) break;
        const register = page.getByTestId('register');
        if ((await register.count()) === 0) continue;
        await register.click();
        await page.getByTestId('ticket-link').waitFor();
        break;
      }
      await page.getByTestId('ticket-link').click();
      await page.getByTestId('ticket-code').waitFor();
      await page.screenshot({ path: out(`ticket-${lang}.png`), fullPage: true });

      // A big event that is over: every number and both charts have something to show.
      const organizer = await desktop.newPage();
      await organizer.goto(`${server.baseUrl}/login`);
      await organizer.locator('input[name="email"]').fill(ADMIN);
      await organizer.locator('input[name="password"]').fill(PASSWORD);
      await organizer.locator('form button[type="submit"]').last().click();
      await organizer.getByTestId('viewer-name').waitFor();
      let shot = false;
      // The demo's events, oldest first (an administrator may open every dashboard).
      for (let id = 1; id <= 60; id++) {
        await organizer.goto(`${server.baseUrl}/organize/${id}`);
        if ((await organizer.getByTestId('stat-no-shows').count()) === 0) continue;
        const registered = Number((await organizer.getByTestId('stat-registered').innerText()).split('/')[0].trim());
        if (registered < 150) continue;
        await organizer.screenshot({ path: out(`dashboard-${lang}.png`), fullPage: true });
        shot = true;
        break;
      }
      if (!shot) throw new Error('no finished event with 150 registrations in the demo data');
    }
  } finally {
    await server.stop();
  }
});
