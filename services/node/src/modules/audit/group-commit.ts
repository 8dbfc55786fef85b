/**
 * Group commit: concurrent callers' items share one durable write. The first item is written at
 * once; items that arrive while a write is in flight wait for it and then go together in the
 * next (at most `maxGroup` per write). Each caller resolves only once the write that carried its
 * item has committed; if that write fails, every caller in it is rejected with its error. Items
 * submitted together (`submitAll`) always go in the same write.
 */
export class GroupCommit<I, O> {
  private queue: { items: readonly I[]; resolve(out: O[]): void; reject(err: unknown): void }[] = [];
  private flushing: Promise<void> | null = null;

  /** `write` commits the items durably and returns one result per item, in order. */
  constructor(
    private readonly write: (items: I[]) => Promise<O[]>,
    private readonly maxGroup = 500,
  ) {}

  /** Resolves with the item's result once the write carrying it has committed. */
  async submit(item: I): Promise<O> {
    const [out] = await this.submitAll([item]);
    return out!;
  }

  /** Resolves with the items' results once the one write carrying them all has committed. */
  submitAll(items: readonly I[]): Promise<O[]> {
    if (items.length === 0 || items.length > this.maxGroup)
      return Promise.reject(new RangeError(`between 1 and ${this.maxGroup} items go in one write`));
    return new Promise((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
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
    // Whole submissions, up to maxGroup items (a submission is never split).
    let take = 0;
    for (let n = 0; take < this.queue.length && n + this.queue[take]!.items.length <= this.maxGroup; take++)
      n += this.queue[take]!.items.length;
    const group = this.queue.splice(0, take);
    try {
      const out = await this.write(group.flatMap((g) => g.items));
      let next = 0;
      for (const g of group) {
        g.resolve(out.slice(next, next + g.items.length));
        next += g.items.length;
      }
    } catch (err) {
      group.forEach((g) => g.reject(err));
    }
  }
}
