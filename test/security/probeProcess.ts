import { readFileSync } from "node:fs";
import { request } from "node:http";
import Database from "better-sqlite3";

/** What the HTTP fuzz (httpFuzz.test.ts) reads of a process it probes. */
export interface Answer {
  status: number;
  json: any;
  contentType: string;
}

/**
 * A body above every route's limit, declared by its length and never sent: the server must refuse it from
 * the headers (413) without waiting for, or reading, the body.
 */
export function sendOversize(
  url: string,
  method: string,
  headers: Record<string, string>,
  size: number,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent: false /* no idle keep-alive socket to hold the server's close */,
        headers: { ...headers, "content-length": String(size) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => {
          clearTimeout(timer);
          let json: any = null;
          try {
            json = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode ?? 0, json, contentType: String(res.headers["content-type"] ?? "") });
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`${method} ${url}: no answer to a body declared at ${size} bytes`));
    }, 30_000);
    req.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.flushHeaders();
  });
}

export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m![1]) * 1024;
}

/** Row counts of every table, and the full content of the slashing-protection tables. */
export function snapshot(dbFile: string): Record<string, unknown> {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const out: Record<string, unknown> = {};
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[];
    for (const { name } of tables) {
      out[`${name}.rows`] = (db.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n;
      if (/^(eth_|substrate_|cometbft_)/.test(name))
        out[name] = JSON.stringify(db.prepare(`SELECT * FROM "${name}"`).raw().all(), (_k, v) =>
          typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v,
        );
    }
    return out;
  } finally {
    db.close();
  }
}
