import type { Logger } from '@mcx/logger';

import type { AuditStore } from './audit-store.js';

/**
 * Unauthenticated noise (no token, a refused token) goes here, not into the audit chain.
 * Rate-limited per source: the first `burst` events of a source in a window are written one by
 * one; the rest are counted and written as one folded row when the window closes, so a flood
 * costs a few rows a minute.
 */
export class SecurityLog {
  private window = new Map<string, { written: number; folded: number; kind: string; reason: string }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: AuditStore,
    private readonly logger: Logger,
    private readonly opts: { burst: number; windowMs: number; now?: () => Date } = { burst: 5, windowMs: 60_000 },
  ) {
    this.timer = setInterval(() => void this.closeWindow(), opts.windowMs);
    this.timer.unref();
  }

  /** Records one event; never throws and never blocks the request. */
  note(kind: string, reason: string, source: string): void {
    const key = `${source}|${kind}|${reason}`;
    const slot = this.window.get(key) ?? { written: 0, folded: 0, kind, reason };
    this.window.set(key, slot);
    if (slot.written < this.opts.burst) {
      slot.written++;
      void this.write(kind, reason, source, 1);
    } else {
      slot.folded++;
    }
  }

  private async write(kind: string, reason: string, source: string, count: number): Promise<void> {
    try {
      await this.store.recordSecurityEvent({ at: (this.opts.now ?? (() => new Date()))(), kind, reason, source, count });
    } catch (err) {
      this.logger.warn({ err }, 'security event not recorded');
    }
  }

  /** Writes the folded counts of the window that just closed. */
  async closeWindow(): Promise<void> {
    const closing = this.window;
    this.window = new Map();
    await Promise.all(
      [...closing.entries()].filter(([, s]) => s.folded > 0).map(([key, s]) => this.write(s.kind, s.reason, key.split('|')[0]!, s.folded)),
    );
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
