import { defineConfig } from '@playwright/test';
import base from './playwright.config';

// `npx playwright test --config screenshots.config.ts` refreshes the README
// screenshots in docs/screenshots (not part of the test suite).
export default defineConfig({ ...base, testDir: './screenshots', fullyParallel: false, workers: 1 });
