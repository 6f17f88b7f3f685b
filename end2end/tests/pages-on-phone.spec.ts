// Every working page of organizers, door staff and administrators, in
// Japanese on a laptop (1366×768) and on a phone (390×844), on the demo
// company's data: nothing scrolls sideways (the document is no wider than
// the screen), axe-core finds no serious or critical problem, and each page
// is photographed. With UPDATE_SCREENSHOTS=1 the first screen of each
// replaces its picture in docs/screenshots; otherwise whole pages go to the
// test's output folder.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

function demoLogin(role: string): [string, string] {
  const email = new RegExp(`^\\s+${role}\\s+(\\S+@\\S+)$`, 'm').exec(printed);
  const password = /^\s+password\s+(\S+)$/m.exec(printed);
  expect(email && password, printed).toBeTruthy();
  return [email![1], password![1]];
}

async function accessibilityProblems(page: Page): Promise<string[]> {
  const source = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(source);
  const violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] = await page.evaluate(
    // @ts-expect-error axe is defined by the script evaluated above
    async () => (await axe.run(document, { resultTypes: ['violations'] })).violations,
  );
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}

const VIEWPORTS = [
  { name: 'desktop', width: 1366, height: 768 },
  { name: 'phone', width: 390, height: 844 },
] as const;

function screenshotPath(name: string): string {
  return process.env.UPDATE_SCREENSHOTS
    ? join(__dirname, '../../docs/screenshots', `${name}.png`)
    : test.info().outputPath(`${name}.png`);
}

async function checkPage(page: Page, url: string, name: string, viewport: (typeof VIEWPORTS)[number], ready: string) {
  await page.goto(`${server.baseUrl}${url}`);
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await expect(page.locator(ready).first()).toBeVisible();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width, `${name} at ${viewport.width} px scrolls sideways`).toBeLessThanOrEqual(viewport.width);
  expect(await accessibilityProblems(page), `${name} at ${viewport.width} px`).toEqual([]);
  // The committed pictures show the first screen, as a person sees it on
  // opening the page; the test's own output keeps the whole page.
  await page.screenshot({ path: screenshotPath(`${name}-${viewport.name}-ja`), fullPage: !process.env.UPDATE_SCREENSHOTS });
}

async function loggedIn(browser: Browser, role: string, viewport: (typeof VIEWPORTS)[number]): Promise<Page> {
  const page = await (await browser.newContext({ locale: 'ja-JP', viewport })).newPage();
  const [email, password] = demoLogin(role);
  await logInOn(page, server.baseUrl, email, password);
  await page.request.post(`${server.baseUrl}/api/lang`, { form: { lang: 'ja' } });
  return page;
}

/** A published event of the demo that has not started, with people registered. */
async function upcomingEvent(page: Page): Promise<number> {
  await page.goto(`${server.baseUrl}/organize`);
  const id = await page.getByTestId('managed-events').locator('li[data-status="published"]').first().getAttribute('data-event');
  expect(id).toBeTruthy();
  return Number(id);
}

for (const viewport of VIEWPORTS) {
  test(`organizer, door and admin pages at ${viewport.width} px: no sideways scrolling, no serious axe problem`, async ({ browser }) => {
    test.setTimeout(180_000);
    const admin = await loggedIn(browser, 'admin', viewport);
    const id = await upcomingEvent(admin);
    await checkPage(admin, '/organize', 'organize-list', viewport, '[data-testid="managed-events"]');
    await checkPage(admin, `/organize/${id}`, 'dashboard', viewport, '[data-testid="stat-registered"]');
    await checkPage(admin, `/organize/${id}/edit`, 'editor', viewport, 'form.event-form');
    await checkPage(admin, `/organize/${id}/attendees`, 'attendees', viewport, '[data-testid="attendees"]');
    await checkPage(admin, '/admin/users', 'users', viewport, '[data-testid="users-table"]');
    await checkPage(admin, '/admin/audit', 'audit', viewport, 'table');
    await checkPage(admin, '/admin/outbox', 'outbox', viewport, 'h1');
    await checkPage(admin, '/admin/overview', 'overview', viewport, '[data-testid="chart-months"]');

    const staff = await loggedIn(browser, 'staff', viewport);
    await checkPage(staff, `/events/${id}/door`, 'door', viewport, '[data-testid="door-code"]');

    const visitor = await (await browser.newContext({ locale: 'ja-JP', viewport })).newPage();
    await checkPage(visitor, '/', 'events', viewport, '.event-card');
    await checkPage(visitor, '/forgot-password', 'forgot-password', viewport, 'input[name="email"]');
  });
}
