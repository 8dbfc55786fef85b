/**
 * The signed webhook to a force's own systems: each inbox alert is POSTed as canonical JSON,
 * signed with the node's record key (a detached JWS in `X-MCX-Signature`, verifiable with the
 * node's keys in the trust manifest), with `Idempotency-Key: <alert id>` the same on every retry,
 * so the receiver stores it once. Anything but a 2xx is retried by the queue. A redirect is not
 * followed (a 307 or 308 would POST the signed alert wherever it points): it is a failure too.
 */
import type { AlertModel } from './alert-model.js';

const TIMEOUT_MS = 10_000;

export interface AlertWebhookDeps {
  url: string;
  forceCode: string;
  sign(view: object): { bytes: string; signature: string };
}

/** A webhook call that must be tried again. */
export class WebhookRefused extends Error {}

export class AlertWebhook {
  constructor(private readonly deps: AlertWebhookDeps) {}

  /** The alert as the force system gets it: pointers and counts, as in the inbox. */
  static view(node: string, a: AlertModel): object {
    return {
      schema: 'mcx.alert-webhook/1',
      node,
      id: a.id,
      eventNumber: a.eventNumber,
      kind: a.kind,
      fromNode: a.fromNode,
      yourSubjectRefs: a.yourSubjectRefs,
      episode: a.episode,
      holders: a.holders,
      threshold: a.threshold ?? null,
      watch: a.watch ?? null,
      receivedAt: a.receivedAt,
    };
  }

  async send(alert: AlertModel): Promise<void> {
    const { bytes, signature } = this.deps.sign(AlertWebhook.view(this.deps.forceCode, alert));
    let status: number;
    try {
      const res = await fetch(this.deps.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': alert.id,
          'x-mcx-signature': signature,
          'x-mcx-node': this.deps.forceCode,
        },
        body: bytes,
        redirect: 'manual',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      status = res.status;
      await res.body?.cancel();
    } catch (err) {
      throw new WebhookRefused(`webhook unreachable: ${(err as Error).name}`);
    }
    if (status < 200 || status > 299) throw new WebhookRefused(`webhook answered ${status}`);
  }
}
