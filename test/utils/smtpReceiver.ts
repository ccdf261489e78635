import type { AddressInfo } from "node:net";
import { createServer, type Server, type Socket } from "node:net";

export interface ReceivedMail {
  from: string;
  to: string[];
  data: string;
}

/**
 * A tiny SMTP receiver on loopback (RFC 5321 commands a client needs: EHLO/HELO, MAIL, RCPT, DATA,
 * RSET, NOOP, QUIT). `reject` makes it answer DATA with a code (e.g. 451 temporary, 550 permanent).
 */
export class SmtpReceiver {
  readonly mails: ReceivedMail[] = [];
  reject: number | null = null;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor() {
    this.server = createServer((s) => this.session(s));
  }

  async start(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private session(s: Socket): void {
    this.sockets.add(s);
    s.on("close", () => this.sockets.delete(s));
    s.on("error", () => {});
    let buf = "";
    let inData = false;
    let mail: ReceivedMail = { from: "", to: [], data: "" };
    const reply = (line: string): void => {
      s.write(`${line}\r\n`);
    };
    reply("220 localhost test SMTP");
    s.on("data", (chunk: Buffer) => {
      buf += chunk.toString("utf8");
      for (;;) {
        if (inData) {
          const end = buf.indexOf("\r\n.\r\n");
          if (end < 0) return;
          mail.data = buf.slice(0, end).replace(/\r\n\.\./g, "\r\n.");
          buf = buf.slice(end + 5);
          inData = false;
          if (this.reject !== null) reply(`${this.reject} rejected`);
          else {
            this.mails.push(mail);
            reply("250 OK queued");
          }
          mail = { from: "", to: [], data: "" };
          continue;
        }
        const nl = buf.indexOf("\r\n");
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const cmd = line.slice(0, 4).toUpperCase();
        if (cmd === "EHLO") s.write("250-localhost\r\n250 8BITMIME\r\n");
        else if (cmd === "HELO" || cmd === "NOOP" || cmd === "RSET") reply("250 OK");
        else if (cmd === "MAIL") {
          mail.from = /<([^>]*)>/.exec(line)?.[1] ?? "";
          reply("250 OK");
        } else if (cmd === "RCPT") {
          mail.to.push(/<([^>]*)>/.exec(line)?.[1] ?? "");
          reply("250 OK");
        } else if (cmd === "DATA") {
          inData = true;
          reply("354 end with <CRLF>.<CRLF>");
        } else if (cmd === "QUIT") {
          reply("221 bye");
          s.end();
        } else reply("502 not implemented");
      }
    });
  }
}
