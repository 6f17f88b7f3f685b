// Starting real Tsudoi binaries for the tests: each test gets its own process,
// port and database, so tests can run in parallel and leave nothing behind.

import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, type Page } from '@playwright/test';
import { simpleParser, type ParsedMail } from 'mailparser';

/** Debian's Chromium, never a downloaded browser (see ../shared/TOOLCHAIN.md). */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export const binaryPath = resolve(process.env.TSUDOI_BINARY ?? join(__dirname, '../../target/release/tsudoi'));

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port'))));
    });
  });
}

/** The environment without any TSUDOI_* setting of the developer's shell. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('TSUDOI_')) env[key] = value;
  }
  return { ...env, ...extra };
}

export class Tsudoi {
  private constructor(
    readonly folder: string,
    readonly baseUrl: string,
    private readonly child: ChildProcess,
    readonly output: string[],
  ) {}

  /** Copies the binary alone into an empty folder and runs `command` there. */
  static runAlone(folder: string, args: string[], env: Record<string, string> = {}, input?: string): string {
    return execFileSync(join(folder, 'tsudoi'), args, { cwd: folder, env: cleanEnv(env), encoding: 'utf8', input });
  }

  static emptyFolderWithBinary(): string {
    const folder = mkdtempSync(join(tmpdir(), 'tsudoi-e2e-'));
    copyFileSync(binaryPath, join(folder, 'tsudoi'));
    return folder;
  }

  static async serve(folder: string, env: Record<string, string> = {}): Promise<Tsudoi> {
    const port = await freePort();
    const child = spawn(join(folder, 'tsudoi'), ['serve', '--addr', `127.0.0.1:${port}`], {
      cwd: folder,
      env: cleanEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    child.stdout?.on('data', (chunk) => output.push(String(chunk)));
    child.stderr?.on('data', (chunk) => output.push(String(chunk)));
    const server = new Tsudoi(folder, `http://127.0.0.1:${port}`, child, output);
    await server.waitUntilReady();
    return server;
  }

  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) {
        throw new Error(`tsudoi exited with ${this.child.exitCode}:\n${this.output.join('')}`);
      }
      try {
        const response = await fetch(`${this.baseUrl}/readyz`);
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`tsudoi did not become ready:\n${this.output.join('')}`);
  }

  /** Sends SIGTERM, removes the folder once the process is gone (unless kept), resolves with the exit code. */
  stop(keepFolder = false): Promise<number | null> {
    return new Promise<number | null>((ok) => {
      if (this.child.exitCode !== null) return ok(this.child.exitCode);
      this.child.once('exit', (code) => ok(code));
      this.child.kill('SIGTERM');
    }).then((code) => {
      if (!keepFolder) rmSync(this.folder, { recursive: true, force: true });
      return code;
    });
  }

}

/** A fresh PostgreSQL database on the server named by TSUDOI_TEST_DATABASE_URL, and a dropper. */
export function freshPostgresDatabase(serverUrl: string): { url: string; drop: () => void } {
  const name = `tsudoi_e2e_${process.pid}_${Math.random().toString(16).slice(2, 10)}`;
  execFileSync('psql', [serverUrl, '-v', 'ON_ERROR_STOP=1', '-qc', `CREATE DATABASE "${name}"`]);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => execFileSync('psql', [serverUrl, '-qc', `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`]),
  };
}

/** A running Tsudoi on a fresh PostgreSQL database, with SQL access for test data. */
export class World {
  private constructor(
    public server: Tsudoi,
    readonly databaseUrl: string,
    private readonly drop: () => void,
  ) {}

  /** Stops the server and starts it again in its folder with extra settings (a new port). */
  async restart(env: Record<string, string>): Promise<void> {
    const folder = this.server.folder;
    await this.server.stop(true);
    this.server = await Tsudoi.serve(folder, { TSUDOI_DATABASE_URL: this.databaseUrl, ...env });
  }

  static async start(adminEmail: string, adminPassword: string): Promise<World> {
    const serverUrl = process.env.TSUDOI_TEST_DATABASE_URL;
    if (!serverUrl) throw new Error('TSUDOI_TEST_DATABASE_URL must name a PostgreSQL server for this test');
    const db = freshPostgresDatabase(serverUrl);
    const env = { TSUDOI_DATABASE_URL: db.url };
    const folder = Tsudoi.emptyFolderWithBinary();
    Tsudoi.runAlone(folder, ['create-admin', '--email', adminEmail, '--name', 'Admin 管理', '--lang', 'en'], env, `${adminPassword}\n`);
    const server = await Tsudoi.serve(folder, env);
    return new World(server, db.url, db.drop);
  }

  sql(statement: string): string {
    return execFileSync('psql', [this.databaseUrl, '-v', 'ON_ERROR_STOP=1', '-qAtc', statement], { encoding: 'utf8' }).trim();
  }

  /** A published event starting `days` from now; returns its id. */
  event(titleEn: string, titleJa: string, capacity: number, days = 3, place = 'Room 7F'): number {
    const id = this.sql(
      `INSERT INTO events (title_en, title_ja, description_en, description_ja, category, place, starts_at, ends_at, capacity, status)
       VALUES ('${titleEn}', '${titleJa}', 'Hands-on session. Bring a laptop.', 'ノートPCを持参してください。', 'workshop', '${place}',
               now() + interval '${days} days', now() + interval '${days} days 2 hours', ${capacity}, 'published') RETURNING id`,
    );
    return Number(id);
  }

  /** Creates an employee with a password through the admin API, as an administrator would. */
  async user(adminEmail: string, adminPassword: string, email: string, name: string, password: string, role = 'employee'): Promise<void> {
    const base = this.server.baseUrl;
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      body: new URLSearchParams({ email: adminEmail, password: adminPassword }),
    });
    const cookie = (login.headers.getSetCookie().find((c) => c.startsWith('tsudoi_session=')) ?? '').split(';')[0];
    if (!cookie.startsWith('tsudoi_session=')) throw new Error(`admin login failed: ${login.status}`);
    const created = await fetch(`${base}/api/admin/users/create`, {
      method: 'POST',
      headers: { cookie },
      body: new URLSearchParams({ email, display_name: name, department: '開発部', role, lang: 'en', password }),
    });
    if (!created.ok) throw new Error(`creating ${email} failed: ${created.status} ${await created.text()}`);
  }

  async stop(): Promise<void> {
    await this.server.stop();
    this.drop();
  }
}

/** The e-mail address of `role`'s demo account and the demo password, as `seed-demo` printed them. */
export function demoAccount(printed: string, role: string): [string, string] {
  const email = new RegExp(`^\\s+${role}\\s+(\\S+@\\S+)$`, 'm').exec(printed);
  const password = /^\s+password\s+(\S+)$/m.exec(printed);
  expect(email && password, printed).toBeTruthy();
  return [email![1], password![1]];
}

/** Logs `page` in through the login form and waits until the header names the person. */
export async function logInOn(page: Page, baseUrl: string, email: string, password: string): Promise<Page> {
  await page.goto(`${baseUrl}/login`);
  await page.locator('input[name="email"]').fill(email);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('form button[type="submit"]').last().click();
  await expect(page.getByTestId('viewer-name')).toBeVisible();
  return page;
}

/** Debian's Python, which has aiosmtpd (`cargo xtask test` installs python3-aiosmtpd). */
export const PYTHON = process.env.TSUDOI_TEST_PYTHON ?? '/usr/bin/python3';

/** aiosmtpd writing every mail it accepts into a Maildir. */
export class MailServer {
  private constructor(readonly port: number, readonly maildir: string, private readonly child: ChildProcess) {}

  static async start(): Promise<MailServer> {
    const port = await freePort();
    const folder = mkdtempSync(join(tmpdir(), 'tsudoi-smtp-'));
    const maildir = join(folder, 'maildir');
    const child = spawn(PYTHON, ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'aiosmtpd.handlers.Mailbox', maildir], {
      stdio: 'ignore',
    });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const open = await new Promise<boolean>((ok) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.end();
          ok(true);
        });
        socket.on('error', () => ok(false));
      });
      if (open) break;
      if (Date.now() > deadline) throw new Error('aiosmtpd did not start (is python3-aiosmtpd installed?)');
      await new Promise((r) => setTimeout(r, 100));
    }
    return new MailServer(port, maildir, child);
  }

  async received(): Promise<ParsedMail[]> {
    let files: string[] = [];
    try {
      files = readdirSync(join(this.maildir, 'new'));
    } catch {
      return [];
    }
    return Promise.all(files.map((name) => simpleParser(readFileSync(join(this.maildir, 'new', name)))));
  }

  /** The newest mail to `to` whose subject starts with `subject`, once it has arrived. */
  async mailTo(to: string, subject: string, count = 1): Promise<ParsedMail> {
    let found: ParsedMail[] = [];
    await expect
      .poll(async () => {
        found = (await this.received()).filter((mail) => addressOf(mail) === to && mail.subject?.startsWith(subject));
        return found.length;
      }, { timeout: 30_000 })
      .toBeGreaterThanOrEqual(count);
    found.sort((a, b) => (a.date?.getTime() ?? 0) - (b.date?.getTime() ?? 0));
    return found[found.length - 1];
  }

  stop(): void {
    this.child.kill();
    rmSync(join(this.maildir, '..'), { recursive: true, force: true });
  }
}

export function addressOf(mail: ParsedMail): string {
  const to = mail.to && !Array.isArray(mail.to) ? mail.to.value[0]?.address : undefined;
  return to ?? '';
}
