/**
 * Starts the real service in-process for end-to-end tests: real config loading (YAML + env), a real
 * SQLite file in a fresh temp dir, real HTTP on 127.0.0.1 port 0. Each call is isolated.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { databaseFileName } from "../../src/adapters/sqlite/database.ts";
import type { Config } from "../../src/config/config.ts";
import { loadConfig } from "../../src/config/load-config.ts";
import { type Logger, silentLogger } from "../../src/observability/logger.ts";
import type { Clock } from "../../src/ports/clock.ts";
import { type RunningService, type ServiceRoles, startService } from "../../src/service.ts";

export interface TestService {
  readonly service: RunningService;
  readonly config: Config;
  readonly url: string;
  readonly dataDir: string;
  /** Stops the service and deletes its data dir. */
  close(): Promise<void>;
}

export interface TestServiceOptions {
  readonly yaml?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly clock?: Clock;
  readonly roles?: ServiceRoles;
  /** Reuse a data dir (restart tests); default a fresh temp dir. */
  readonly dataDir?: string;
  /** Default: a silent logger. Pass one to inspect startup warnings and other log lines. */
  readonly logger?: Logger;
}

export function makeDataDir(): string {
  return mkdtempSync(join(tmpdir(), "zen-test-"));
}

/** Loads config the way startup does, with a YAML written to the data dir. */
export function testConfig(dataDir: string, options: Pick<TestServiceOptions, "yaml" | "env">): Config {
  const env: Record<string, string> = {
    PORT: "0",
    HOST: "127.0.0.1",
    ZEN_DATA_DIR: dataDir,
    LOG_LEVEL: "silent",
    ZEN_EGRESS_ALLOW_PRIVATE: "true",
    ...options.env,
  };
  if (options.yaml !== undefined) {
    const path = join(dataDir, "zen.yaml");
    writeFileSync(path, options.yaml);
    env.ZEN_CONFIG = path;
  }
  return loadConfig({ env });
}

/**
 * Rows in `table` of the service's store file, read through a connection of our own: the service's
 * store may run on a worker thread (`ZEN_SQLITE_WORKER`), and a reader sees every committed write.
 */
export function countRows(dataDir: string, table: string): number {
  const db = new Database(join(dataDir, databaseFileName), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const dataDir = options.dataDir ?? makeDataDir();
  const config = testConfig(dataDir, options);
  const service = await startService(config, {
    logger: options.logger ?? silentLogger(),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.roles ? { roles: options.roles } : {}),
  });
  return {
    service,
    config,
    url: service.url,
    dataDir,
    async close() {
      await service.stop({ graceMs: 1000 });
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
