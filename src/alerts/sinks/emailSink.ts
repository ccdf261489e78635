import { createTransport, type Transporter } from "nodemailer";
import type { AlertSink } from "../router.js";
import type { AlertNotification } from "../types.js";
import { textOf, titleOf } from "./format.js";
import { sinkError } from "./sinkError.js";

export interface SmtpOptions {
  host: string;
  port: number;
  /** TLS from the first byte (port 465). */
  secure: boolean;
  /** Refuse to send unless the server offers STARTTLS. */
  requireTls: boolean;
  user?: string;
  password?: string;
  from: string;
  to: string[];
}

/** E-mail over SMTP (STARTTLS when offered, required with requireTls). */
export class EmailSink implements AlertSink {
  readonly type = "email";
  private readonly transport: Transporter;

  constructor(
    readonly name: string,
    private readonly opts: SmtpOptions,
  ) {
    this.transport = createTransport({
      host: opts.host,
      port: opts.port,
      secure: opts.secure,
      requireTLS: opts.requireTls,
      connectionTimeout: 10_000,
      socketTimeout: 20_000,
      ...(opts.user === undefined ? {} : { auth: { user: opts.user, pass: opts.password ?? "" } }),
    });
  }

  async send(n: AlertNotification, signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw sinkError(this.name, `${this.name}: aborted`);
    try {
      await this.transport.sendMail({
        from: this.opts.from,
        to: this.opts.to,
        subject: titleOf(n).slice(0, 200),
        text: textOf(n),
      });
    } catch (e) {
      const code = (e as { responseCode?: number }).responseCode;
      // 5xx: the server refuses for good; 4xx and connection problems may pass later.
      throw sinkError(this.name, `${this.name}: SMTP delivery failed: ${(e as Error).message}`, {
        retryable: code === undefined || code < 500,
        status: code ?? null,
      });
    }
  }

  close(): void {
    this.transport.close();
  }
}
