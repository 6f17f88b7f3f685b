// Every working page of employees, organizers, door staff and
// administrators, in Japanese and in English, on a laptop (1366×768) and on a
// phone (390×844), on the demo company's data: nothing scrolls sideways (the
// document is no wider than the screen), axe-core finds no WCAG 2.1 A/AA
// problem of any impact and no other serious or critical one, and each
// Japanese page is photographed. With UPDATE_SCREENSHOTS=1 the first screen of each
// replaces its picture in docs/screenshots; otherwise whole pages go to the
// test's output folder.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { Tsudoi, demoAccount, logInOn } from './support';

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
  return demoAccount(printed, role);
}

const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

async function accessibilityProblems(page: Page): Promise<string[]> {
  const source = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(source);
  const violations: { id: string; impact: string; tags: string[]; help: string; nodes: { target: string[] }[] }[] =
    await page.evaluate(
      // @ts-expect-error axe is defined by the script evaluated above
      async () => (await axe.run(document, { resultTypes: ['violations'] })).violations,
    );
  return violations
    .filter((v) => v.tags.some((tag) => WCAG_21_AA.includes(tag)) || v.impact === 'serious' || v.impact === 'critical')
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

type Lang = 'ja' | 'en';

async function checkPage(page: Page, url: string, name: string, viewport: (typeof VIEWPORTS)[number], ready: string, lang: Lang) {
  await page.goto(`${server.baseUrl}${url}`);
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await expect(page.locator(ready).first()).toBeVisible();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width, `${name} (${lang}) at ${viewport.width} px scrolls sideways`).toBeLessThanOrEqual(viewport.width);
  expect(await accessibilityProblems(page), `${name} (${lang}) at ${viewport.width} px`).toEqual([]);
  // The committed pictures show the first screen, as a person sees it on
  // opening the page; the test's own output keeps the whole page.
  if (lang === 'ja') {
    await page.screenshot({ path: screenshotPath(`${name}-${viewport.name}-ja`), fullPage: !process.env.UPDATE_SCREENSHOTS });
  }
}

async function loggedIn(browser: Browser, role: string, viewport: (typeof VIEWPORTS)[number], lang: Lang): Promise<Page> {
  const page = await (await browser.newContext({ locale: lang === 'ja' ? 'ja-JP' : 'en-US', viewport })).newPage();
  const [email, password] = demoLogin(role);
  await logInOn(page, server.baseUrl, email, password);
  await page.request.post(`${server.baseUrl}/api/lang`, { form: { lang } });
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
  for (const lang of ['ja', 'en'] as const) {
    test(`every page at ${viewport.width} px in ${lang}: no sideways scrolling, no WCAG 2.1 AA problem`, async ({ browser }) => {
      test.setTimeout(240_000);
      const admin = await loggedIn(browser, 'admin', viewport, lang);
      const id = await upcomingEvent(admin);
      const check = (page: Page, url: string, name: string, ready: string) => checkPage(page, url, name, viewport, ready, lang);
      await check(admin, '/organize', 'organize-list', '[data-testid="managed-events"]');
      await check(admin, `/organize/${id}`, 'dashboard', '[data-testid="stat-registered"]');
      await check(admin, `/organize/${id}/edit`, 'editor', 'form.event-form');
      await check(admin, '/organize/new', 'new-event', 'form.event-form');
      await check(admin, `/organize/${id}/attendees`, 'attendees', '[data-testid="attendees"]');
      await check(admin, `/organize/${id}/attendees?q=${encodeURIComponent('a')}`, 'attendees-search', 'h1');
      await check(admin, '/admin/users', 'users', '[data-testid="users-table"]');
      await check(admin, '/admin/audit', 'audit', 'table');
      await check(admin, '/admin/outbox', 'outbox', 'h1');
      await check(admin, '/admin/overview', 'overview', '[data-testid="chart-months"]');
      await check(admin, '/admin/retention', 'retention', '[data-testid="limits"]');
      await admin.goto(`${server.baseUrl}/admin/users`);
      const anonymizeLink = await admin.getByTestId('anonymize').first().getAttribute('href');
      await check(admin, anonymizeLink!, 'anonymize', '[data-testid="confirm-anonymize"]');

      const staff = await loggedIn(browser, 'staff', viewport, lang);
      await check(staff, `/events/${id}/door`, 'door', '[data-testid="door-code"]');

      const employee = await loggedIn(browser, 'employee', viewport, lang);
      await check(employee, `/events/${id}`, 'event', 'h1');
      await check(employee, '/my-events', 'my-events', 'h1');
      await check(employee, '/account', 'account', 'h1');
      // The demo's survey, waiting on My events: the answer form, and its
      // builder and results for the organizer.
      await employee.goto(`${server.baseUrl}/my-events`);
      const waiting = employee.locator('[data-testid="surveys-waiting"] li').first();
      const surveyPath = await waiting.locator('a').getAttribute('href');
      const surveyEvent = await waiting.getAttribute('data-event');
      await check(employee, surveyPath!, 'survey', '[data-testid="survey"]');
      await check(admin, `/organize/${surveyEvent}`, 'dashboard-survey', '[data-testid="survey-rate"]');
      await check(admin, `/organize/${surveyEvent}/survey`, 'survey-builder', '[data-testid="save-survey"]');
      await check(admin, `/organize/${surveyEvent}/survey/answers?key=q5`, 'survey-answers', '[data-testid="text-answers"]');

      const visitor = await (await browser.newContext({ locale: lang === 'ja' ? 'ja-JP' : 'en-US', viewport })).newPage();
      await visitor.request.post(`${server.baseUrl}/api/lang`, { form: { lang } });
      await check(visitor, '/', 'events', '.event-card');
      await check(visitor, '/login', 'login', 'input[name="email"]');
      await check(visitor, '/forgot-password', 'forgot-password', 'input[name="email"]');
    });
  }
}
