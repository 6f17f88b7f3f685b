// A post-event survey from end to end: the organizer builds one with a
// question of each kind (a bad one refused first, at its place), the event
// has ended, so the invitation goes out to the one person checked in (a
// real SMTP server, aiosmtpd, receives it); she opens the link from that
// mail on a phone in Japanese, is told what is
// missing, answers; the organizer sees the rate, the chart and the
// department, and downloads the answers; the person who registered but
// never came is refused with a page that says why; and the same answer
// form works without JavaScript.

import { expect, test, type Page } from '@playwright/test';
import { MailServer, World, addressOf, logInOn } from './support';

const ADMIN = 'admin@example.co.jp';
const ORGANIZER = 'organizer@example.co.jp';
const ATTENDEE = 'sakura@example.co.jp';
const NO_SHOW = 'noshow@example.co.jp';
const PASSWORD = 'correct horse battery';

let smtp: MailServer;
let world: World;
let eventId = 0;

test.beforeAll(async () => {
  smtp = await MailServer.start();
  world = await World.start(ADMIN, PASSWORD);
  await world.restart({ TSUDOI_SMTP_URL: `smtp://127.0.0.1:${smtp.port}` });
  await world.user(ADMIN, PASSWORD, ORGANIZER, '主催 花子', PASSWORD, 'organizer');
  await world.user(ADMIN, PASSWORD, ATTENDEE, '佐藤 さくら', PASSWORD);
  await world.user(ADMIN, PASSWORD, NO_SHOW, '欠席 太郎', PASSWORD);
  world.sql(`UPDATE users SET lang = 'ja' WHERE email = '${ATTENDEE}'`);
  // A training that ended an hour ago: one person was checked in at the
  // door, one registered and never came.
  eventId = Number(
    world.sql(
      `INSERT INTO events (title_en, title_ja, description_en, description_ja, category, place, starts_at, ends_at,
                           capacity, seats_taken, status, organizer_id)
       VALUES ('Safety training', '安全研修', '', '', 'training', 'Room 7F', now() - interval '3 hours',
               now() - interval '1 hour', 20, 2, 'published', (SELECT id FROM users WHERE email = '${ORGANIZER}'))
       RETURNING id`,
    ),
  );
  world.sql(
    `INSERT INTO registrations (event_id, user_id, status, registered_at, updated_at, checked_in_at)
     SELECT ${eventId}, id, 'checked_in', now() - interval '2 days', now() - interval '3 hours', now() - interval '3 hours'
     FROM users WHERE email = '${ATTENDEE}'`,
  );
  world.sql(
    `INSERT INTO registrations (event_id, user_id, status, registered_at, updated_at)
     SELECT ${eventId}, id, 'registered', now() - interval '2 days', now() - interval '2 days'
     FROM users WHERE email = '${NO_SHOW}'`,
  );
});

test.afterAll(async () => {
  await world.stop();
  smtp.stop();
});

/** Fills question group `index` of the builder. */
async function fillQuestion(
  page: Page,
  index: number,
  kind: string,
  ja: string,
  en: string,
  choices: [string, string] = ['', ''],
  required = false,
) {
  const field = (name: string) => page.locator(`[name="questions[${index}][${name}]"]`);
  await field('kind').selectOption(kind);
  await field('text_ja').fill(ja);
  await field('text_en').fill(en);
  await field('choices_ja').fill(choices[0]);
  await field('choices_en').fill(choices[1]);
  if (required) await field('required').check();
}

async function saveSurvey(page: Page) {
  await page.getByTestId('save-survey').click();
}

test('build, invite the checked-in only, answer on a phone, read the results', async ({ browser }) => {
  test.setTimeout(180_000);
  const base = world.server.baseUrl;

  // The organizer builds the survey; a choice question with one choice is refused at its place.
  const organizer = await (await browser.newContext({ locale: 'en-US' })).newPage();
  await logInOn(organizer, base, ORGANIZER, PASSWORD);
  await organizer.goto(`${base}/organize/${eventId}`);
  await expect(organizer.getByTestId('no-survey')).toBeVisible();
  await organizer.getByTestId('build-survey').click();
  await expect(organizer.locator('body[data-hydrated]')).toHaveCount(1);
  await fillQuestion(organizer, 0, 'rating', '研修の満足度', 'How satisfied were you?', ['', ''], true);
  await fillQuestion(organizer, 1, 'single_choice', '一番役立った内容', 'Most useful part', ['講義', 'Lecture']);
  await saveSurvey(organizer);
  await expect(organizer.getByTestId('question-group-1').locator('.field-error')).toContainText('at least two choices');
  await expect(organizer.getByTestId('survey-saved')).toHaveCount(0);
  await organizer.locator('[name="questions[1][choices_ja]"]').fill('講義\n演習\n質疑応答');
  await organizer.locator('[name="questions[1][choices_en]"]').fill('Lecture\nExercises\nQ&A');
  await saveSurvey(organizer);
  await expect(organizer.getByTestId('survey-saved')).toBeVisible();
  // Two more at a time: the form always offers two empty questions.
  await fillQuestion(organizer, 2, 'multiple_choice', '参加した理由', 'Why you came', ['上司の勧め\n興味\n必須研修', 'Manager\nInterest\nRequired']);
  await fillQuestion(organizer, 3, 'short_text', '一言で言うと', 'In one word');
  await saveSurvey(organizer);
  await expect(organizer.getByTestId('survey-saved')).toBeVisible();
  await expect(organizer.getByTestId('question-group-4')).toBeVisible();
  await fillQuestion(organizer, 4, 'long_text', 'ご意見・ご感想', 'Comments');
  await fillQuestion(organizer, 5, 'nps', '同僚にすすめますか', 'Would you recommend it?');
  await saveSurvey(organizer);
  await expect(organizer.getByTestId('question-group-6')).toBeVisible();
  expect(world.sql(`SELECT jsonb_array_length(questions) FROM surveys WHERE event_id = ${eventId}`)).toBe('6');

  // The event is over, so the survey is open: the invitation goes to the one checked in.
  // The scheduler looks every half minute; the mail then goes out at once.
  await expect
    .poll(async () => (await smtp.received()).filter((mail) => mail.subject?.includes('アンケート')).length, {
      timeout: 75_000,
    })
    .toBe(1);
  const invitation = (await smtp.received()).find((mail) => mail.subject?.includes('アンケート'))!;
  expect(invitation.subject).toBe('【アンケートのお願い】安全研修');
  expect(addressOf(invitation)).toBe(ATTENDEE);
  expect(invitation.text).toContain('安全研修');
  const link = /\/surveys\/(\d+)/.exec(invitation.text ?? '');
  expect(link, invitation.text).toBeTruthy();
  expect(String(invitation.html)).toContain(link![0]);
  const surveyPath = link![0];
  expect(world.sql(`SELECT COUNT(*) FROM mail_outbox WHERE kind = 'survey_invitation'`)).toBe('1');

  // She answers on a phone, in Japanese; the missing rating is named at its question first.
  const phone = await (
    await browser.newContext({ locale: 'ja-JP', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })
  ).newPage();
  await logInOn(phone, base, ATTENDEE, PASSWORD);
  await phone.goto(`${base}${surveyPath}`);
  await expect(phone.locator('body[data-hydrated]')).toHaveCount(1);
  await expect(phone.getByRole('heading', { level: 1 })).toHaveText('アンケート：安全研修');
  await phone.getByTestId('question-q4').locator('input').fill('わかりやすい');
  await phone.getByTestId('send-answers').click();
  await expect(phone.getByTestId('problem-q1')).toHaveText('この質問は回答が必要です。');
  // What she typed is still there.
  await expect(phone.getByTestId('question-q4').locator('input')).toHaveValue('わかりやすい');
  await phone.getByTestId('question-q1').getByText('4', { exact: true }).click();
  await phone.getByTestId('question-q2').getByText('演習').click();
  await phone.getByTestId('question-q3').getByText('興味').click();
  await phone.getByTestId('question-q3').getByText('必須研修').click();
  await phone.getByTestId('question-q5').locator('textarea').fill('実習が多くて良かった。\n時間がもう少しほしい。');
  await phone.getByTestId('question-q6').getByText('9', { exact: true }).click();
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);
  await phone.screenshot({ path: test.info().outputPath('survey-phone-ja.png'), fullPage: true });
  await phone.getByTestId('send-answers').click();
  await expect(phone.getByTestId('survey-state')).toHaveText('ご回答ありがとうございました。回答を保存しました。');
  expect(world.sql(`SELECT answers->>'q1' FROM survey_responses`)).toBe('4');
  // Her account offers everything Tsudoi holds about her, her answer included.
  await phone.goto(`${base}/account`);
  const download = phone.getByTestId('own-data-download');
  await expect(download).toHaveText('データをダウンロード（JSON）');
  const ownData = await phone.request.get(`${base}${await download.getAttribute('href')}`);
  expect(ownData.status()).toBe(200);
  expect(ownData.headers()['content-disposition']).toContain('attachment');
  const mine = await ownData.json();
  expect(mine.person.email).toBe(ATTENDEE);
  expect(mine.registrations.map((r: { event_id: number }) => r.event_id)).toContain(eventId);
  expect(mine.survey_answers[0].answers.q5).toBe('実習が多くて良かった。\n時間がもう少しほしい。');
  expect(JSON.stringify(mine)).not.toContain(NO_SHOW);

  // The organizer sees the rate, the chart and the department, and downloads the answers.
  await organizer.goto(`${base}/organize/${eventId}`);
  await expect(organizer.getByTestId('survey-rate')).toContainText('100 %');
  await expect(organizer.getByTestId('survey-rate')).toContainText('1 of 1 checked-in people answered');
  await expect(organizer.getByTestId('result-q1').locator('.bar-row[data-label="4"]')).toHaveAttribute('data-value', '1');
  await expect(organizer.getByTestId('result-q1')).toContainText('Mean: 4.00');
  await expect(organizer.getByTestId('result-q6')).toContainText('NPS: +100');
  await expect(organizer.getByTestId('chart-survey-departments').locator('.bar-row')).toHaveAttribute('data-label', '開発部 (1/1)');
  await expect(organizer.getByTestId('result-q5')).toContainText('実習が多くて良かった。');
  // Every comment, searchable, a page at a time.
  await organizer.getByTestId('result-q5').getByTestId('all-answers').click();
  await expect(organizer.getByTestId('answer-count')).toContainText('1');
  await organizer.locator('input[name="q"]').fill('存在しない言葉');
  await organizer.locator('form[role="search"] button').click();
  await expect(organizer.getByTestId('text-answers')).toHaveCount(0);
  await organizer.locator('input[name="q"]').fill('実習');
  await organizer.locator('form[role="search"] button').click();
  await expect(organizer.getByTestId('text-answers').locator('li')).toHaveCount(1);
  await organizer.goto(`${base}/organize/${eventId}`);
  const csv = await organizer.request.get(`${base}/api/organize/survey.csv?event_id=${eventId}`);
  expect(csv.status()).toBe(200);
  const text = (await csv.body()).toString('utf8');
  expect(text.startsWith('\uFEFF')).toBe(true);
  expect(text).toContain('1. How satisfied were you?');
  expect(text).toContain(ATTENDEE);
  expect(text).toContain('Interest / Required');

  // The one who never came is refused, with a page that says why.
  const absent = await (await browser.newContext({ locale: 'ja-JP' })).newPage();
  await logInOn(absent, base, NO_SHOW, PASSWORD);
  const refused = await absent.goto(`${base}${surveyPath}`);
  expect(refused!.status()).toBe(403);
  await expect(absent.getByTestId('survey-not-for-you')).toContainText('there is no check-in of yours');
  expect(world.sql(`SELECT COUNT(*) FROM survey_responses`)).toBe('1');

  // Without JavaScript the same form changes her answer.
  const plain = await (await browser.newContext({ locale: 'ja-JP', javaScriptEnabled: false })).newPage();
  await plain.goto(`${base}/login`);
  await plain.locator('input[name="email"]').fill(ATTENDEE);
  await plain.locator('input[name="password"]').fill(PASSWORD);
  await plain.locator('form button[type="submit"]').last().click();
  await expect(plain.getByTestId('viewer-name')).toBeVisible();
  await plain.goto(`${base}${surveyPath}`);
  await expect(plain.getByTestId('question-q1').locator('input[value="4"]')).toBeChecked();
  // A refused form comes back through a redirect with her new answers still
  // in it and the problem at its question; nothing is stored.
  await plain.getByTestId('question-q4').locator('input').fill('そのまま残る');
  await plain.getByTestId('question-q5').locator('textarea').fill('制御文字\u0001入り');
  await plain.getByTestId('send-answers').click();
  await expect(plain.getByTestId('problem-q5')).toBeVisible();
  await expect(plain.getByTestId('question-q4').locator('input')).toHaveValue('そのまま残る');
  await expect(plain.getByTestId('question-q5').locator('textarea')).toHaveValue('制御文字入り');
  expect(world.sql(`SELECT answers->>'q4' FROM survey_responses`)).toBe('わかりやすい');
  await plain.getByTestId('question-q5').locator('textarea').fill('実習が多くて良かった。');
  await plain.getByTestId('question-q1').getByText('5', { exact: true }).click();
  await plain.getByTestId('send-answers').click();
  await expect(plain.getByTestId('survey-state')).toContainText('まで回答を変更できます');
  await expect(plain.getByTestId('question-q1').locator('input[value="5"]')).toBeChecked();
  expect(world.sql(`SELECT answers->>'q1' FROM survey_responses`)).toBe('5');
  expect(world.sql(`SELECT answers->>'q4' FROM survey_responses`)).toBe('そのまま残る');
  expect(world.sql(`SELECT COUNT(*) FROM survey_responses`)).toBe('1');
});
