// Every page type, as the server sends it and as it stands after a person
// acted on it, in Japanese and in English, read by the W3C Nu Html Checker
// (vnu.jar from npm, run by Debian's Java): not one error. Warnings are not
// failures; the checker's "error" is what breaks a strict client.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { expect, test, type APIRequestContext, type Browser, type Page } from '@playwright/test';
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

type Lang = 'ja' | 'en';

interface CheckerMessage {
  type: string;
  subType?: string;
  url?: string;
  lastLine?: number;
  message: string;
  extract?: string;
}

/** Runs the checker once over all files (one Java start) and returns its errors. */
function checkerErrors(files: string[]): string[] {
  const jar = join(require.resolve('vnu-jar/package.json'), '..', 'build/dist/vnu.jar');
  const report = execFileSync('java', ['-jar', jar, '--format', 'json', '--exit-zero-always', '--stdout', ...files], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const messages: CheckerMessage[] = JSON.parse(report).messages;
  return messages
    .filter((m) => m.type === 'error' || m.type === 'non-document-error')
    .map((m) => `${basename(m.url ?? '?')}:${m.lastLine ?? '?'}: ${m.message} — ${(m.extract ?? '').trim()}`);
}

/**
 * Two things in a served page are Leptos's, not ours, and the checker
 * would stop at them: its hydration markers `<!>` (an empty comment in the
 * short spelling the HTML grammar calls "bogus"; browsers read it as
 * `<!---->`) and what it streams after `</html>` — scripts with resolved
 * data, and `<template>`s with parts rendered out of order — which the
 * parser puts at the end of the body. Rewritten exactly that way, the
 * whole document, streamed parts included, is checked to its end.
 */
function asBrowsersReadIt(html: string): string {
  const end = html.lastIndexOf('</body></html>');
  expect(end, 'a whole document').toBeGreaterThan(0);
  const streamed = html.slice(end + '</body></html>'.length);
  return (html.slice(0, end) + streamed + '</body></html>').replaceAll('<!>', '<!---->');
}

class Documents {
  readonly files: string[] = [];

  constructor(private readonly lang: Lang) {}

  private keep(name: string, html: string) {
    const file = test.info().outputPath(`${name}-${this.lang}.html`);
    writeFileSync(file, html);
    this.files.push(file);
  }

  /** The document as the server sends it, with the framework's own
   * streaming artefacts read the way every browser reads them (below). */
  async served(request: APIRequestContext, url: string, name: string, status = 200) {
    const response = await request.get(`${server.baseUrl}${url}`);
    expect(response.status(), `${url} (${this.lang})`).toBe(status);
    expect(response.headers()['content-type'], url).toContain('text/html');
    this.keep(name, asBrowsersReadIt(await response.text()));
  }

  /** The document as it stands in the browser after a person acted on it. */
  async asShown(page: Page, name: string) {
    this.keep(name, await page.content());
  }
}

async function loggedIn(browser: Browser, role: string, lang: Lang): Promise<Page> {
  const page = await (await browser.newContext({ locale: lang === 'ja' ? 'ja-JP' : 'en-US' })).newPage();
  const [email, password] = demoLogin(role);
  await logInOn(page, server.baseUrl, email, password);
  await page.request.post(`${server.baseUrl}/api/lang`, { form: { lang } });
  return page;
}

async function firstLink(page: Page, url: string, selector: string): Promise<string> {
  await page.goto(`${server.baseUrl}${url}`);
  const href = await page.locator(selector).first().getAttribute('href');
  expect(href, `a link ${selector} on ${url}`).toBeTruthy();
  return href!;
}

for (const lang of ['ja', 'en'] as const) {
  test(`every page type is valid HTML for the Nu Html Checker (${lang})`, async ({ browser }) => {
    test.setTimeout(180_000);
    const documents = new Documents(lang);

    // The employee registers first: the page after it is checked, and its
    // confirmation gives the outbox a mail to open.
    const employee = await loggedIn(browser, 'employee', lang);
    await employee.goto(`${server.baseUrl}/`);
    const events = await employee.locator('.event-card a[href^="/events/"]').evaluateAll((links) =>
      links.map((link) => link.getAttribute('href')),
    );
    let registered = false;
    for (const href of events.slice(0, 15)) {
      await employee.goto(`${server.baseUrl}${href}`);
      await expect(employee.locator('body[data-hydrated]')).toHaveCount(1);
      if ((await employee.getByTestId('register').count()) === 0) continue;
      await employee.getByTestId('register').click();
      await expect(employee.getByTestId('my-state')).toBeVisible();
      await documents.asShown(employee, 'event-after-registering');
      registered = true;
      break;
    }
    expect(registered, 'an event the demo employee can register for').toBe(true);

    const admin = await loggedIn(browser, 'admin', lang);
    await admin.goto(`${server.baseUrl}/organize`);
    const id = await admin.getByTestId('managed-events').locator('li[data-status="published"]').first().getAttribute('data-event');
    expect(id).toBeTruthy();
    const mail = await firstLink(admin, '/admin/outbox', '[data-testid="read-mail"]');
    for (const [url, name] of [
      ['/organize', 'organize-list'],
      [`/organize/${id}`, 'dashboard'],
      [`/organize/${id}/edit`, 'editor'],
      ['/organize/new', 'new-event'],
      [`/organize/${id}/attendees`, 'attendees'],
      [`/organize/${id}/attendees?q=${encodeURIComponent('<b>"&')}`, 'attendees-search'],
      ['/admin/users', 'users'],
      ['/admin/users?q=a', 'users-search'],
      ['/admin/audit', 'audit'],
      ['/admin/outbox', 'outbox'],
      [mail, 'outbox-mail'],
      ['/admin/overview', 'overview'],
    ]) {
      await documents.served(admin.request, url, name);
    }

    const staff = await loggedIn(browser, 'staff', lang);
    await documents.served(staff.request, `/events/${id}/door`, 'door');

    const ticket = await firstLink(employee, '/my-events', 'a[href^="/tickets/"]');
    // The demo's survey: waiting on the employee's My events.
    const survey = await firstLink(employee, '/my-events', '[data-testid="surveys-waiting"] a[href^="/surveys/"]');
    const surveyEvent = await employee.locator('[data-testid="surveys-waiting"] li').first().getAttribute('data-event');
    for (const [url, name] of [
      [`/events/${id}`, 'event'],
      ['/my-events', 'my-events'],
      [ticket, 'ticket'],
      ['/account', 'account'],
      ['/events?q=%E7%A0%94%E4%BF%AE', 'events-search'],
      [survey, 'survey'],
    ]) {
      await documents.served(employee.request, url, name);
    }

    await documents.served(admin.request, `/organize/${surveyEvent}`, 'dashboard-with-survey');
    await documents.served(admin.request, `/organize/${surveyEvent}/survey`, 'survey-builder');
    await documents.served(admin.request, `/organize/${surveyEvent}/survey/answers?key=q5&q=${encodeURIComponent('<i>"')}`, 'survey-answers');
    await documents.served(admin.request, `/organize/${id}/survey`, 'survey-builder-empty');
    // Someone who was not there is told why.
    await documents.served(admin.request, survey, 'survey-not-for-you', 403);

    const visitor = await (await browser.newContext({ locale: lang === 'ja' ? 'ja-JP' : 'en-US' })).newPage();
    await visitor.request.post(`${server.baseUrl}/api/lang`, { form: { lang } });
    for (const [url, name, status] of [
      ['/', 'events', 200],
      ['/login', 'login', 200],
      ['/forgot-password', 'forgot-password', 200],
      ['/password/not-a-token', 'set-password-bad-link', 422],
      ['/reminders/stop/not-a-token', 'stop-reminders-bad-link', 422],
      [`/organize/${id}`, 'dashboard-logged-out', 401],
      ['/no-such-page', 'not-found', 404],
    ] as const) {
      await documents.served(visitor.request, url, name, status);
    }

    // States a person reaches by acting: a refused login, a fresh registration.
    await visitor.goto(`${server.baseUrl}/login`);
    await expect(visitor.locator('body[data-hydrated]')).toHaveCount(1);
    await visitor.locator('input[name="email"]').fill('nobody@example.com');
    await visitor.locator('input[name="password"]').fill('wrong password');
    await visitor.locator('form button[type="submit"]').last().click();
    await expect(visitor.locator('[role="alert"]').first()).toBeVisible();
    await documents.asShown(visitor, 'login-refused');

    expect(checkerErrors(documents.files)).toEqual([]);
  });
}
