import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
  json: unknown;
}

export type Handler = (req: Recorded, res: ServerResponse) => void | Promise<void>;

/** A real HTTP server on a loopback port chosen by the system; records every request. */
export class LoopbackServer {
  readonly requests: Recorded[] = [];
  private readonly server: Server;
  private waiters: { n: number; resolve: () => void }[] = [];

  constructor(private handler: Handler) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        let json: unknown = null;
        try {
          json = body.length > 0 ? JSON.parse(body) : null;
        } catch {
          json = null;
        }
        const rec = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body, json };
        this.requests.push(rec);
        this.waiters = this.waiters.filter((w) => {
          if (this.requests.length < w.n) return true;
          w.resolve();
          return false;
        });
        void Promise.resolve(this.handler(rec, res)).catch(() => {
          res.statusCode = 500;
          res.end();
        });
      });
    });
  }

  setHandler(h: Handler): void {
    this.handler = h;
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves once `n` requests in total have arrived. */
  waitFor(n: number): Promise<void> {
    if (this.requests.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
