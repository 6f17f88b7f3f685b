// Starting real Tsudoi binaries for the tests: each test gets its own process,
// port and database, so tests can run in parallel and leave nothing behind.

import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

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

  /** Sends SIGTERM and resolves with the exit code once the process is gone. */
  stop(): Promise<number | null> {
    return new Promise((ok) => {
      if (this.child.exitCode !== null) return ok(this.child.exitCode);
      this.child.once('exit', (code) => ok(code));
      this.child.kill('SIGTERM');
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
