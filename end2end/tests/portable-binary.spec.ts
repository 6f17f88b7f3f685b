// Issue #2: the release binary, copied alone into an empty folder, runs with
// no configuration and serves a hydrated events page — on SQLite and on PostgreSQL.

import { expect, test } from '@playwright/test';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Tsudoi, freshPostgresDatabase } from './support';

type Backend = { name: string; env: () => { env: Record<string, string>; cleanup: () => void } };

const backends: Backend[] = [
  { name: 'embedded SQLite', env: () => ({ env: {}, cleanup: () => {} }) },
  {
    name: 'PostgreSQL',
    env: () => {
      const server = process.env.TSUDOI_TEST_DATABASE_URL;
      if (!server) throw new Error('TSUDOI_TEST_DATABASE_URL must name a PostgreSQL server for this test');
      const db = freshPostgresDatabase(server);
      return { env: { TSUDOI_DATABASE_URL: db.url }, cleanup: db.drop };
    },
  },
];

for (const backend of backends) {
  test(`binary alone in an empty folder serves a hydrated events page (${backend.name})`, async ({ page }) => {
    const { env, cleanup } = backend.env();
    const folder = Tsudoi.emptyFolderWithBinary();
    expect(readdirSync(folder)).toEqual(['tsudoi']);
    let server: Tsudoi | undefined;
    try {
      const seeded = Tsudoi.runAlone(folder, ['seed-demo'], env);
      expect(seeded).toContain('60 events');
      if (backend.name === 'embedded SQLite') {
        expect(existsSync(join(folder, 'tsudoi.db'))).toBe(true);
      }
      server = await Tsudoi.serve(folder, env);

      // Server-rendered: the cards are in the HTML before any script runs.
      const html = await (await fetch(server.baseUrl)).text();
      expect(html).toContain('class="event-card');
      expect(html).toContain('/pkg/tsudoi.wasm');

      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      page.on('console', (msg) => msg.type() === 'error' && errors.push(msg.text()));
      await page.goto(server.baseUrl);
      await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');

      const cards = page.locator('.event-card');
      expect(await cards.count()).toBeGreaterThan(5);
      await expect(page.getByTestId('first-page')).toHaveCount(0);

      // Keyset pagination: the next page shows other events.
      const firstIds = await page.locator('.event-card').evaluateAll((els) => els.map((e) => e.getAttribute('data-event-id')));
      await page.getByRole('link', { name: 'Next page →' }).click();
      await expect(page).toHaveURL(/after=/);
      await expect(page.locator('.event-card').first()).not.toHaveAttribute('data-event-id', firstIds[0]!);
      const nextIds = await page.locator('.event-card').evaluateAll((els) => els.map((e) => e.getAttribute('data-event-id')));
      expect(nextIds.filter((id) => firstIds.includes(id))).toEqual([]);
      // And back to the first.
      await page.getByTestId('first-page').click();
      await expect(page.locator('.event-card').first()).toHaveAttribute('data-event-id', firstIds[0]!);

      expect(errors).toEqual([]);
      expect(await server.stop()).toBe(0);
      server = undefined;
    } finally {
      await server?.stop();
      rmSync(folder, { recursive: true, force: true });
      cleanup();
    }
  });
}
