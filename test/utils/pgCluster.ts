import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/**
 * A private PostgreSQL cluster for tests that must change server settings (fsync, full_page_writes)
 * or stop the server: never the shared server on 5432. Started from the Debian binaries with initdb;
 * as root it runs as the `postgres` user (the server refuses root).
 */
export interface PgCluster {
  url: string;
  port: number;
  /** Runs SQL as the superuser (ALTER SYSTEM, pg_reload_conf()). */
  admin(sql: string): Promise<void>;
  /**
   * pg_reload_conf(), then waits until a new connection sees `name` = `value` (the reload only signals
   * the postmaster; open sessions reread the file when the signal reaches them).
   */
  reload(name: string, value: string): Promise<void>;
  /** Runs a query as the superuser and returns its rows. */
  query(sql: string): Promise<Record<string, unknown>[]>;
  /** Immediate shutdown (`pg_ctl stop -m immediate`: SIGQUIT to the postmaster), as a crash of the host. */
  kill(): Promise<void>;
  /** Promotes a standby to primary and waits until it accepts writes. */
  promote(): Promise<void>;
  stop(): Promise<void>;
}

function binDir(): string | null {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(join(root, v, "bin", "initdb"))) return join(root, v, "bin");
  return null;
}

const BIN = binDir();
const AS_ROOT = process.getuid?.() === 0;

/** Whether a private cluster can be started here (the tests that need one skip with a message otherwise). */
export const HAS_PG_BINARIES = BIN !== null && (!AS_ROOT || (existsSync("/usr/sbin/runuser") && hasUser("postgres")));

function hasUser(name: string): boolean {
  try {
    execFileSync("id", [name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function asServerUser(cmd: string, args: string[]): [string, string[]] {
  return AS_ROOT ? ["/usr/sbin/runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
}

/** A loopback port nothing listens on (just released by the system). */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * initdb + postgres with the given `-c name=value` settings, on a free loopback port. Settings given
 * here cannot be changed by ALTER SYSTEM later (the command line wins): change those with admin().
 */
export async function startPgCluster(settings: Record<string, string> = {}): Promise<PgCluster> {
  if (BIN === null) throw new Error("no PostgreSQL binaries");
  const dir = mkdtempSync(join(tmpdir(), "sg-pgc-"));
  const data = join(dir, "data");
  if (AS_ROOT) chownSync(dir, Number(execFileSync("id", ["-u", "postgres"]).toString()), 0);
  const [initdb, initArgs] = asServerUser(join(BIN!, "initdb"), [
    "-D",
    data,
    "-A",
    "trust",
    "-U",
    "postgres",
    "--no-sync",
    "-E",
    "UTF8",
  ]);
  execFileSync(initdb, initArgs, { stdio: "ignore" });
  return runPostgres(dir, data, settings);
}

/**
 * A streaming standby of `primary` (pg_basebackup -R) on its own loopback port, connecting as
 * application_name `name` (list it in the primary's synchronous_standby_names to make it synchronous).
 */
export async function startPgStandby(
  primary: PgCluster,
  name: string,
  settings: Record<string, string> = {},
): Promise<PgCluster> {
  if (BIN === null) throw new Error("no PostgreSQL binaries");
  const dir = mkdtempSync(join(tmpdir(), "sg-pgs-"));
  const data = join(dir, "data");
  if (AS_ROOT) chownSync(dir, Number(execFileSync("id", ["-u", "postgres"]).toString()), 0);
  const [basebackup, args] = asServerUser(join(BIN, "pg_basebackup"), [
    "-h",
    "127.0.0.1",
    "-p",
    String(primary.port),
    "-U",
    "postgres",
    "-D",
    data,
    "-R",
    "-X",
    "stream",
    "--no-sync",
  ]);
  execFileSync(basebackup, args, { stdio: "ignore" });
  // in postgresql.auto.conf (the last line wins), not on the command line: ALTER SYSTEM can change it later
  appendFileSync(
    join(data, "postgresql.auto.conf"),
    `primary_conninfo = 'host=127.0.0.1 port=${primary.port} user=postgres application_name=${name}'\n`,
  );
  return runPostgres(dir, data, settings);
}

async function runPostgres(dir: string, data: string, settings: Record<string, string>): Promise<PgCluster> {
  if (BIN === null) throw new Error("no PostgreSQL binaries");
  const port = await freeLoopbackPort();
  const conf = Object.entries({ listen_addresses: "127.0.0.1", unix_socket_directories: dir, ...settings }).flatMap(
    ([k, v]) => ["-c", `${k}=${v}`],
  );
  const [postgres, args] = asServerUser(join(BIN, "postgres"), ["-D", data, "-p", String(port), ...conf]);
  const proc: ChildProcess = spawn(postgres, args, { stdio: "ignore" });
  let ended = false;
  const exited = new Promise<void>((r) =>
    proc.once("exit", () => {
      ended = true;
      r();
    }),
  );
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  for (let i = 0; ; i++) {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await c.connect();
      await c.end();
      break;
    } catch {
      await c.end().catch(() => {});
      if (i > 100 || proc.exitCode !== null) {
        proc.kill("SIGKILL");
        rmSync(dir, { recursive: true, force: true });
        throw new Error("private PostgreSQL cluster did not start");
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const query = async (sql: string): Promise<Record<string, unknown>[]> => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(sql)).rows;
    } finally {
      await c.end();
    }
  };
  // signals go to the postmaster itself (runuser in between need not forward them)
  const postmasterPid = (): number => Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
  return {
    url,
    port,
    query,
    admin: async (sql) => {
      await query(sql);
    },
    reload: async (name, value) => {
      await query("SELECT pg_reload_conf()");
      await pollUntil(
        async () => (await query(`SELECT current_setting('${name}') AS v`))[0]!.v === value,
        `${name} = '${value}' after a reload`,
      );
    },
    kill: async () => {
      if (ended) return;
      process.kill(postmasterPid(), "SIGQUIT");
      await exited;
    },
    promote: async () => {
      await query("SELECT pg_promote(true, 60)");
    },
    stop: async () => {
      if (!ended) {
        process.kill(postmasterPid(), "SIGINT"); // fast shutdown
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** application_name of the standby that startPgPair makes (name it in synchronous_standby_names). */
export const STANDBY_NAME = "sg_standby";

/** Polls until `ok` holds: server-side changes that arrive asynchronously (a reload, a standby attaching). */
export async function pollUntil(ok: () => Promise<boolean>, what: string, tries = 600): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`not reached: ${what}`);
}

/** Waits until `primary` streams to one standby (synchronously, when `sync`). */
export async function waitForStandby(primary: PgCluster, sync: boolean): Promise<void> {
  const where = sync ? "state = 'streaming' AND sync_state = 'sync'" : "state = 'streaming'";
  await pollUntil(
    async () => (await primary.query(`SELECT count(*)::int AS n FROM pg_stat_replication WHERE ${where}`))[0]!.n === 1,
    sync ? "a synchronous standby" : "a streaming standby",
  );
}

/** Waits until no standby of `primary` is synchronous (its walsenders saw a reload). */
export async function waitForNoSyncStandby(primary: PgCluster): Promise<void> {
  await pollUntil(
    async () =>
      (await primary.query("SELECT 1 FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum')")).length === 0,
    "no synchronous standby",
  );
}

export interface PgPair {
  primary: PgCluster;
  standby: PgCluster;
  /** libpq multi-host URL, primary first. */
  url: string;
}

/** A primary and a streaming standby made from it, synchronous or asynchronous. */
export async function startPgPair(sync: boolean): Promise<PgPair> {
  const primary = await startPgCluster();
  try {
    if (sync) {
      await primary.admin(`ALTER SYSTEM SET synchronous_standby_names = '${STANDBY_NAME}'`);
      await primary.reload("synchronous_standby_names", STANDBY_NAME);
    }
    const standby = await startPgStandby(primary, STANDBY_NAME);
    await waitForStandby(primary, sync).catch(async (e) => {
      await standby.stop();
      throw e;
    });
    const url = `postgres://postgres@127.0.0.1:${primary.port},127.0.0.1:${standby.port}/postgres?target_session_attrs=read-write`;
    return { primary, standby, url };
  } catch (e) {
    await primary.stop();
    throw e;
  }
}
