/** Reading GraphQL over Server-Sent Events (the live alert stream) as any HTTP client would. */

/** One event of the stream: its SSE event name and id, and its data as parsed JSON. */
export type StreamEvent<A> = {
  event: string;
  id?: number;
  data: { data?: { alertAdded: A } | null; errors?: { extensions: Record<string, unknown> }[]; extensions?: Record<string, unknown> };
};

/** Polls `probe` every 50 ms until it returns something other than null, or fails after `ms`. */
export async function until<T>(what: string, ms: number, probe: () => Promise<T | null>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const got = await probe();
    if (got !== null) return got;
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One stream read as any HTTP client reads it: its status and headers, its comments and events, and whether it ended. */
export class RawStream<A> {
  readonly events: StreamEvent<A>[] = [];
  readonly comments: string[] = [];
  ended = false;
  private readonly done: Promise<void>;

  constructor(
    readonly res: Response,
    private readonly abort: AbortController,
    /** Every chunk of every stream, as received, for a test's search of the payloads. */
    private readonly sink: string[] = [],
  ) {
    // Only a stream is read as one: a refusal's JSON body is left for the test.
    const isStream = res.headers.get('content-type')?.startsWith('text/event-stream') ?? false;
    this.done = (isStream ? this.read() : Promise.resolve()).finally(() => void (this.ended = true));
  }

  private async read(): Promise<void> {
    const reader = this.res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const text = decoder.decode(value, { stream: true });
        this.sink.push(text);
        buffer += text;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) !== -1) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          if (frame.startsWith(':')) {
            this.comments.push(frame);
            continue;
          }
          const fields = Object.fromEntries(frame.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
          this.events.push({
            event: fields.event ?? '',
            ...(fields.id ? { id: Number(fields.id) } : {}),
            data: JSON.parse(fields.data || 'null') as StreamEvent<A>['data'],
          });
        }
      }
    } catch {
      // Aborted by the test.
    }
  }

  alerts(): A[] {
    return this.events.filter((e) => e.event === 'next' && e.data.data).map((e) => e.data.data!.alertAdded);
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }

  async ended_(ms: number): Promise<void> {
    await until('the stream to end', ms, async () => (this.ended ? true : null));
  }
}
