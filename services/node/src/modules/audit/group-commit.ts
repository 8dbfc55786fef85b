/**
 * Group commit: concurrent callers' items share one durable write. The first item is written at
 * once; items that arrive while a write is in flight wait for it and then go together in the
 * next (at most `maxGroup` per write). Each caller resolves only once the write that carried its
 * item has committed; if that write fails, every caller in it is rejected with its error.
 */
export class GroupCommit<I, O> {
  private queue: { item: I; resolve(out: O): void; reject(err: unknown): void }[] = [];
  private flushing: Promise<void> | null = null;

  /** `write` commits the items durably and returns one result per item, in order. */
  constructor(
    private readonly write: (items: I[]) => Promise<O[]>,
    private readonly maxGroup = 500,
  ) {}

  /** Resolves with the item's result once the write carrying it has committed. */
  submit(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.kick();
    });
  }

  /** Waits for queued writes (shutdown). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = null;
      if (this.queue.length > 0) this.kick();
    });
  }

  private async flush(): Promise<void> {
    const group = this.queue.splice(0, this.maxGroup);
    try {
      const out = await this.write(group.map((p) => p.item));
      group.forEach((p, i) => p.resolve(out[i]!));
    } catch (err) {
      group.forEach((p) => p.reject(err));
    }
  }
}
