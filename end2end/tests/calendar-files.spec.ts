// Every kind of calendar file Tsudoi serves, read by a real iCalendar
// parser (Mozilla's ical.js, the one Thunderbird uses): a personal feed with
// a live and a cancelled event whose texts need escaping (commas,
// semicolons, backslashes, a line break, Japanese), an empty feed, and an
// event's own file in both languages. Each must parse, hold at least one
// component, and give back the texts exactly as the organizer wrote them.

import { expect, test } from '@playwright/test';
import ICAL from 'ical.js';
import { World } from './support';

const ADMIN = 'admin@example.co.jp';
const PASSWORD = 'correct horse battery';

let world: World;

test.beforeAll(async () => {
  world = await World.start(ADMIN, PASSWORD);
});

test.afterAll(async () => {
  await world.stop();
});

async function cookieOf(email: string, password: string): Promise<string> {
  const login = await fetch(`${world.server.baseUrl}/api/auth/login`, {
    method: 'POST',
    body: new URLSearchParams({ email, password }),
  });
  const cookie = (login.headers.getSetCookie().find((c) => c.startsWith('tsudoi_session=')) ?? '').split(';')[0];
  expect(cookie, `login ${email}: ${login.status}`).toMatch(/^tsudoi_session=/);
  return cookie;
}

/** The person's feed, fetched at its address as a calendar app would (no cookie). */
async function feedOf(email: string, password: string): Promise<string> {
  const cookie = await cookieOf(email, password);
  const answer = await fetch(`${world.server.baseUrl}/api/me/calendar`, { headers: { cookie } });
  expect(answer.status).toBe(200);
  const address: string = await answer.json();
  const token = /\/calendar\/([^/]+)\.ics$/.exec(address)?.[1];
  expect(token, address).toBeTruthy();
  const feed = await fetch(`${world.server.baseUrl}/calendar/${token}.ics`);
  expect(feed.status).toBe(200);
  expect(feed.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
  return feed.text();
}

/** The file parsed strictly enough: ical.js throws on what it cannot read. */
function parsed(text: string, what: string): ICAL.Component {
  expect(text.endsWith('\r\n'), `${what} ends with CRLF`).toBe(true);
  for (const line of text.split('\r\n')) {
    expect(new TextEncoder().encode(line).length, `${what}: a line longer than 75 octets: ${line}`).toBeLessThanOrEqual(75);
  }
  const calendar = new ICAL.Component(ICAL.parse(text));
  expect(calendar.name).toBe('vcalendar');
  expect(calendar.getFirstPropertyValue('version')).toBe('2.0');
  expect(calendar.getFirstPropertyValue('prodid')).toBeTruthy();
  expect(calendar.getAllSubcomponents().length, `${what} holds a component`).toBeGreaterThan(0);
  for (const event of calendar.getAllSubcomponents('vevent')) {
    for (const required of ['uid', 'dtstamp', 'dtstart']) {
      expect(event.getFirstPropertyValue(required), `${what}: VEVENT without ${required.toUpperCase()}`).toBeTruthy();
    }
  }
  return calendar;
}

test('feeds and event files read in a real iCalendar parser, texts intact', async () => {
  const titleEn = 'Review, Q4; part \\ 1';
  const titleJa = '四半期レビュー「Q4」、第1部';
  const live = world.event(titleEn.replace(/'/g, "''"), titleJa, 30);
  world.sql(`UPDATE events SET description_en = E'Line one\\nLine two, with; punctuation' WHERE id = ${live}`);
  const cancelled = world.event('Year-end party', '忘年会', 30);
  await world.user(ADMIN, PASSWORD, 'cal@example.co.jp', 'Cal 予定', PASSWORD);
  await world.user(ADMIN, PASSWORD, 'nobody@example.co.jp', 'No Seats', PASSWORD);
  world.sql(
    `INSERT INTO registrations (event_id, user_id, status, registered_at, updated_at)
     SELECT e.id, u.id, 'registered', now(), now() FROM events e, users u
      WHERE e.id IN (${live}, ${cancelled}) AND u.email = 'cal@example.co.jp'`,
  );
  world.sql(`UPDATE events SET status = 'cancelled' WHERE id = ${cancelled}`);

  // A feed with both events (the person's language is English).
  const feed = parsed(await feedOf('cal@example.co.jp', PASSWORD), 'the feed');
  const events = feed.getAllSubcomponents('vevent');
  expect(events.length).toBe(2);
  const byTitle = new Map(events.map((e) => [String(e.getFirstPropertyValue('summary')), e]));
  const kept = byTitle.get(titleEn);
  expect(kept, [...byTitle.keys()].join(' | ')).toBeTruthy();
  expect(kept!.getFirstPropertyValue('description')).toContain('Line one\nLine two, with; punctuation');
  expect(kept!.getFirstPropertyValue('location')).toBe('Room 7F');
  const gone = byTitle.get('Year-end party');
  expect(gone).toBeTruthy();
  expect(gone!.getFirstPropertyValue('status')).toBe('CANCELLED');

  // A person without seats still gets a calendar with a component.
  const empty = parsed(await feedOf('nobody@example.co.jp', PASSWORD), 'the empty feed');
  expect(empty.getAllSubcomponents('vevent').length).toBe(0);

  // The event's own file, in each language.
  for (const [language, title] of [
    ['ja', titleJa],
    ['en', titleEn],
  ] as const) {
    const answer = await fetch(`${world.server.baseUrl}/events/${live}/calendar.ics`, {
      headers: { 'accept-language': language },
    });
    expect(answer.status).toBe(200);
    const file = parsed(await answer.text(), `the event file (${language})`);
    const [event] = file.getAllSubcomponents('vevent');
    expect(event.getFirstPropertyValue('summary')).toBe(title);
    const start = event.getFirstPropertyValue('dtstart') as ICAL.Time;
    const end = event.getFirstPropertyValue('dtend') as ICAL.Time;
    expect(end.compare(start)).toBe(1);
  }
});
