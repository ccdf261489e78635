import { connect, type Socket } from "node:net";

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  json: any;
}

/** Parses the first HTTP/1.1 answer in `text` once it is complete (by content-length), else null. */
export function parseAnswer(text: string): RawAnswer | null {
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const [statusLine, ...lines] = text.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(":");
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const length = Number(headers["content-length"] ?? "0");
  const body = text.slice(end + 4);
  if (Buffer.byteLength(body) < length) return null;
  let json: any = null;
  try {
    json = JSON.parse(body.slice(0, length));
  } catch {
    // not JSON: left null, tests assert on it
  }
  return { status: Number(statusLine!.split(" ")[1]), headers, body, json };
}

export interface RawConnection {
  socket: Socket;
  /** Resolves with the first complete answer, or null when the socket closes (or `limitMs` passes) without one. */
  answer(limitMs?: number): Promise<RawAnswer | null>;
  close(): void;
}

/** Opens a TCP connection to `url`'s host and port and writes `head` (more may be written later). */
export function rawConnect(url: string, head: string | Buffer): Promise<RawConnection> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname);
    let text = "";
    let parsed: RawAnswer | null = null;
    let closed = false;
    const waiters: (() => void)[] = [];
    const wake = (): void => {
      for (const w of waiters.splice(0)) w();
    };
    socket.on("data", (d) => {
      text += d.toString("latin1");
      parsed ??= parseAnswer(text);
      if (parsed !== null) wake();
    });
    socket.on("close", () => {
      closed = true;
      wake();
    });
    socket.on("error", () => {});
    socket.once("connect", () => {
      socket.write(head);
      resolve({
        socket,
        close: () => socket.destroy(),
        answer: (limitMs = 15_000) =>
          new Promise((res) => {
            if (parsed !== null || closed) return res(parsed);
            const t = setTimeout(() => res(parsed), limitMs);
            waiters.push(() => {
              clearTimeout(t);
              res(parsed);
            });
          }),
      });
    });
    socket.once("error", reject);
  });
}

/** Sends a complete raw request and returns its answer. */
export async function rawRequest(url: string, request: string | Buffer, limitMs = 15_000): Promise<RawAnswer | null> {
  const c = await rawConnect(url, request);
  try {
    return await c.answer(limitMs);
  } finally {
    c.close();
  }
}
