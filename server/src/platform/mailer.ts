import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from './logger.ts';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/** Outgoing mail. Delivery problems are reported to the caller; nothing is retried here. */
export interface Mailer {
  /** 'smtp' sends; 'log' writes the message to the log (a single machine without a mail server). */
  readonly kind: 'smtp' | 'log';
  send(mail: Mail): Promise<void>;
  close(): void;
}

class SmtpMailer implements Mailer {
  readonly kind = 'smtp';
  private readonly transport: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
  ) {
    const url = new URL(smtpUrl);
    this.transport = nodemailer.createTransport({
      host: url.hostname,
      port: url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587,
      secure: url.protocol === 'smtps:',
      auth: url.username
        ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
        : undefined,
      // A mail server that hangs must not hold a request open for minutes.
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    });
  }

  async send(mail: Mail): Promise<void> {
    await this.transport.sendMail({ from: this.from, to: mail.to, subject: mail.subject, text: mail.text });
  }

  close(): void {
    this.transport.close();
  }
}

/**
 * Embedded mode without SMTP: the operator reads the message in the server log. The body is
 * logged under `mail.body`, a key the log redaction leaves alone on purpose: the link in it is
 * the only way the message reaches anyone.
 */
class LogMailer implements Mailer {
  readonly kind = 'log';

  constructor(private readonly logger: Logger) {}

  async send(mail: Mail): Promise<void> {
    this.logger.warn({ mail: { to: mail.to, subject: mail.subject, body: mail.text } }, 'mail not sent (no SMTP_URL)');
  }

  close(): void {}
}

export function createMailer(opts: { smtpUrl: string | undefined; from: string }, logger: Logger): Mailer {
  return opts.smtpUrl ? new SmtpMailer(opts.smtpUrl, opts.from) : new LogMailer(logger);
}
