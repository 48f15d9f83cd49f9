import { createHash } from 'node:crypto';
import type { Config } from '../../config.ts';
import { AppError } from '../../platform/errors.ts';
import { randomToken } from '../../platform/ids.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Mailer } from '../../platform/mailer.ts';
import type { RateLimiter } from '../../platform/rate-limiter.ts';
import type { IdentityRepository } from './identity.repository.ts';
import type { IdentityService, RequestMeta } from './identity.service.ts';
import { hashPassword } from './passwords.ts';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The page of the web app that takes the token; the token rides in the fragment, never sent to a server. */
export const RESET_PATH = '/reset-password';

/**
 * "Forgot password": a single-use link that expires, mailed to the account's address, and a
 * new password set through it. Requests answer the same way, at the same speed, whether or not
 * the address belongs to anyone: the lookup, the token and the mail happen after the answer.
 */
export class PasswordResets {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly repo: IdentityRepository,
    private readonly identity: IdentityService,
    private readonly config: Config,
    private readonly limiter: RateLimiter,
    private readonly mailer: Mailer,
    private readonly logger: Logger,
  ) {}

  async request(email: string, meta: RequestMeta): Promise<void> {
    const { perIp, perAccount, windowMs } = this.config.loginRateLimit;
    const address = email.trim().toLowerCase();
    // Limits apply to every address alike, so a 429 says nothing about who has an account.
    for (const [key, limit] of [
      [`reset:ip:${meta.ip ?? 'unknown'}`, perIp],
      [`reset:acct:${address}`, perAccount],
    ] as const) {
      const d = await this.limiter.hit(key, limit, windowMs);
      if (!d.allowed) {
        throw new AppError('too_many_attempts', 429, 'Too many reset requests; try again later', {
          retryAfterSeconds: Math.ceil(d.retryAfterMs / 1000),
        });
      }
    }
    const job = this.issue(address, meta).catch((err: unknown) =>
      this.logger.error({ err }, 'password reset mail could not be sent'),
    );
    this.pending.add(job);
    void job.finally(() => this.pending.delete(job));
  }

  private async issue(address: string, meta: RequestMeta): Promise<void> {
    const user = await this.repo.findUserByEmail(address);
    if (!user || Number(user.disabled) === 1) return;
    const token = randomToken(32);
    const t = Date.now();
    await this.repo.deleteExpiredPasswordResets(t);
    await this.repo.insertPasswordReset({
      id: sha256(token),
      user_id: user.id,
      ip: meta.ip?.slice(0, 64) ?? null,
      created_at: t,
      expires_at: t + this.config.passwordResetTtlMs,
      used_at: null,
    });
    await this.identity.audit(null, 'auth.password_reset_requested', 'user', user.id, {}, meta.ip);
    const minutes = Math.round(this.config.passwordResetTtlMs / 60_000);
    await this.mailer.send({
      to: user.email,
      subject: 'Reset your Aula password',
      text: [
        `Hello ${user.full_name},`,
        '',
        'Someone (hopefully you) asked to reset the password of your Aula account. To choose a new password, open:',
        '',
        this.link(token),
        '',
        `The link works once and expires in ${minutes} minutes. If you did not ask for it, ignore this message; your password stays as it is.`,
      ].join('\n'),
    });
  }

  /**
   * The link points at PUBLIC_URL, never at the Host header of the request: otherwise anyone
   * could have the mail for someone else's account point at a server of their choosing.
   */
  private link(token: string): string {
    const base = (this.config.publicUrl ?? `http://localhost:${this.config.port}`).replace(/\/$/, '');
    return `${base}${RESET_PATH}#token=${token}`;
  }

  /** Sets the new password, spends the link and signs the account out everywhere. */
  async confirm(token: string, newPassword: string, meta: RequestMeta): Promise<void> {
    const t = Date.now();
    const userId = token.length <= 200 ? await this.repo.consumePasswordReset(sha256(token), t) : undefined;
    if (!userId) {
      throw new AppError('invalid_reset_link', 400, 'This reset link is not valid: it expired or was already used');
    }
    const user = await this.repo.findUserById(userId);
    if (!user || Number(user.disabled) === 1) {
      throw new AppError('invalid_reset_link', 400, 'This reset link is not valid: it expired or was already used');
    }
    await this.repo.updateUser(user.id, { password_hash: await hashPassword(newPassword), updated_at: t });
    await this.repo.spendPasswordResetsOfUser(user.id, t);
    const sessions = await this.repo.deleteSessionsByUser(user.id);
    // Whoever was locked out by failed attempts may sign in with the new password at once.
    await this.limiter.reset(`login:acct:${user.username}`);
    await this.limiter.reset(`login:acct:${user.email}`);
    await this.identity.audit(null, 'auth.password_reset', 'user', user.id, { sessions }, meta.ip);
  }

  /** Resolves when every reset mail requested so far has been handled (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
