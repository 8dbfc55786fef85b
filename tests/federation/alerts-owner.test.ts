/**
 * A user is their token's issuer and subject together. WMP's node accepts a second identity
 * provider (another organisation's) beside the one its officers sign in with; that provider's
 * administrator mints a token whose `sub` is the subject of WMP's investigator. That token is
 * somebody else: it neither lists, renews nor cancels the investigator's watch (WATCH_NOT_YOURS),
 * reads none of their WATCH alerts (by alerts(after:) or the live stream), acknowledges none; and
 * no reader but an auditor is shown a subject id ("you", "a colleague at WMP", "someone at another
 * organisation").
 */
import { gql } from 'graphql-tag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient, type McxClient } from '@mcx/client';
import { PEER_OPERATIONS } from '@mcx/federation';

import { RawStream } from '../testkit/alert-stream.js';
import { openInput, otherIssuer, publishEpisode, publishSubject, syntheticChild, until } from '../testkit/alerts.js';
import { startFederation } from '../testkit/federation.js';
import { readHeaders, type TestNode } from '../testkit/node.js';

const WATCH = gql`
  mutation W($subjectRef: String!, $expiresAt: DateTime!) {
    watchChild(subjectRef: $subjectRef, expiresAt: $expiresAt) {
      id
      createdBy
      cancelledAt
    }
  }
`;
const RENEW = gql`
  mutation R($id: ID!, $expiresAt: DateTime!) {
    renewWatch(id: $id, expiresAt: $expiresAt) {
      id
    }
  }
`;
const CANCEL = gql`
  mutation C($id: ID!) {
    cancelWatch(id: $id) {
      id
      cancelledAt
    }
  }
`;
const WATCHES = gql`
  query L($ended: Boolean) {
    watches(ended: $ended) {
      id
      createdBy
      cancelledAt
    }
  }
`;
const ALERTS = gql`
  query A {
    alerts(first: 200) {
      nodes {
        id
        kind
        forUser
        acknowledgedBy
        acknowledgements {
          by
        }
        episode {
          id
        }
        watch {
          id
        }
      }
    }
  }
`;
const ACK = gql`
  mutation Ack($id: ID!) {
    acknowledgeAlert(id: $id) {
      id
      acknowledgedBy
      acknowledgements {
        by
      }
    }
  }
`;
const STREAM = `subscription S($after: Int) {
  alertAdded(after: $after) { id kind forUser acknowledgedBy acknowledgements { by } episode { id } watch { id } }
}`;
type Alert = {
  id: string;
  kind: string;
  forUser: string | null;
  acknowledgedBy: string | null;
  acknowledgements: { by: string }[];
  episode: { id: string };
  watch: { id: string } | null;
};
type Watch = { id: string; createdBy: string; cancelledAt: string | null };
type Acked = { acknowledgeAlert: { acknowledgedBy: string; acknowledgements: { by: string }[] } };

const OTHER_ISSUER = 'https://idp.other-organisation.test';
const { identity } = syntheticChild(565656, 0);
const DAY = 86_400_000;
const inDays = (d: number) => new Date(Date.now() + d * DAY).toISOString();

let nodes: Record<'GMP' | 'WMP', TestNode>;
let close: () => Promise<void>;
let lead: McxClient;
let colleague: McxClient;
/** The lead's subject, in a token of the other issuer. */
let twin: McxClient;
let twinToken: string;
let watch: Watch;

const alertsOf = async (c: McxClient) => ((await c.request(ALERTS, {})) as { alerts: { nodes: Alert[] } }).alerts.nodes;

beforeAll(async () => {
  const other = await otherIssuer('WMP', OTHER_ISSUER, 'BTP');
  ({ nodes, close } = await startFederation(['GMP', 'WMP'] as const, {
    capabilities: PEER_OPERATIONS.map((op) => op.name),
    node: (m) => (m === 'WMP' ? { env: { MCX_ISSUERS_FILE: other.file } } : {}),
  }));
  await publishSubject(nodes.GMP, 'GMP-SUBJ-1', identity);
  await publishSubject(nodes.WMP, 'WMP-SUBJ-8', identity);
  lead = await nodes.WMP.as({ roles: ['investigator'], subject: 'wmp-missing-lead', headers: readHeaders('WMP') });
  colleague = await nodes.WMP.as({ roles: ['investigator'], subject: 'wmp-other-officer', headers: readHeaders('WMP') });
  twinToken = await other.token('wmp-missing-lead');
  twin = createClient({ url: nodes.WMP.node.url, token: twinToken, headers: readHeaders('WMP') });
  watch = ((await lead.request(WATCH, { subjectRef: 'WMP-SUBJ-8', expiresAt: inDays(30) })) as { watchChild: Watch }).watchChild;
}, 180_000);

afterAll(() => close?.());

describe('a user is their issuer and subject together', () => {
  it('a token of another issuer with the watcher’s subject neither lists, renews nor cancels the watch (WATCH_NOT_YOURS)', async () => {
    expect(((await twin.request(WATCHES, {})) as { watches: Watch[] }).watches).toEqual([]);
    expect(((await twin.request(WATCHES, { ended: true })) as { watches: Watch[] }).watches).toEqual([]);
    await expect(twin.request(CANCEL, { id: watch.id })).rejects.toThrow(/WATCH_NOT_YOURS|only the user who set/);
    await expect(twin.request(RENEW, { id: watch.id, expiresAt: inDays(60) })).rejects.toThrow(/WATCH_NOT_YOURS|only the user who set/);
    expect(((await lead.request(WATCHES, {})) as { watches: Watch[] }).watches).toEqual([
      { id: watch.id, createdBy: 'you', cancelledAt: null },
    ]);
    // The twin's own watch is theirs alone: the lead neither lists nor cancels it.
    const theirs = ((await twin.request(WATCH, { subjectRef: 'WMP-SUBJ-8', expiresAt: inDays(5) })) as { watchChild: Watch }).watchChild;
    expect(theirs.createdBy).toBe('you');
    expect(((await lead.request(WATCHES, { ended: true })) as { watches: Watch[] }).watches.map((w) => w.id)).toEqual([watch.id]);
    await expect(lead.request(CANCEL, { id: theirs.id })).rejects.toThrow(/WATCH_NOT_YOURS|only the user who set/);
    expect(((await twin.request(CANCEL, { id: theirs.id })) as { cancelWatch: Watch }).cancelWatch.cancelledAt).not.toBeNull();
  });

  it('nor reads the watcher’s WATCH alerts, by alerts(after:) or the stream, nor acknowledges them; and is shown no subject', async () => {
    const input = openInput('GMP-SUBJ-1');
    expect((await publishEpisode(nodes.GMP.client, input)).errors).toEqual([]);
    const leads = await until('the lead’s WATCH alert', 10_000, async () => {
      const a = (await alertsOf(lead)).filter((x) => x.kind === 'WATCH' && x.episode.id === input.id);
      return a.length > 0 ? a : null;
    });
    const seenByTwin = await alertsOf(twin);
    expect(seenByTwin.some((a) => a.kind === 'CROSS_MATCH' && a.episode.id === input.id)).toBe(true);
    expect(seenByTwin.filter((a) => a.kind === 'WATCH')).toEqual([]);
    await expect(twin.request(ACK, { id: leads[0]!.id })).rejects.toThrow(/ALERT_NOT_FOUND|no alert/);
    for (const a of leads) expect(a).toMatchObject({ forUser: 'you', watch: { id: watch.id } });

    // The node's own alert, acknowledged by the lead's colleague and by the lead.
    const crossMatch = seenByTwin.find((a) => a.kind === 'CROSS_MATCH' && a.episode.id === input.id)!;
    await colleague.request(ACK, { id: crossMatch.id });
    await lead.request(ACK, { id: crossMatch.id });

    // The stream from the start: every alert up to and past the lead's WATCH alerts, none of these.
    const abort = new AbortController();
    const res = await fetch(`${nodes.WMP.node.url}/graphql/stream`, {
      method: 'POST',
      signal: abort.signal,
      headers: {
        accept: 'text/event-stream',
        'content-type': 'application/json',
        authorization: `Bearer ${twinToken}`,
        ...readHeaders('WMP'),
      },
      body: JSON.stringify({ query: STREAM, variables: { after: 0 } }),
    });
    const stream = new RawStream<Alert>(res, abort);
    expect(res.status).toBe(200);
    await until('the cross-match on the stream', 5_000, async () => (stream.alerts().some((a) => a.id === crossMatch.id) ? true : null));
    await new Promise((r) => setTimeout(r, 500));
    await stream.close();
    expect(stream.alerts().filter((a) => a.kind === 'WATCH')).toEqual([]);
    expect(stream.alerts().find((a) => a.id === crossMatch.id)).toMatchObject({
      forUser: null,
      acknowledgedBy: 'someone at another organisation',
      acknowledgements: [{ by: 'someone at another organisation' }, { by: 'someone at another organisation' }],
    });

    // The twin may acknowledge the node's alert, as somebody other than the lead.
    const twinView = ((await twin.request(ACK, { id: crossMatch.id })) as Acked).acknowledgeAlert;
    expect(twinView.acknowledgedBy).toBe('someone at another organisation');
    expect(twinView.acknowledgements.map((a) => a.by)).toEqual([
      'someone at another organisation',
      'someone at another organisation',
      'you',
    ]);
    const leadView = (await alertsOf(lead)).find((a) => a.id === crossMatch.id)!;
    expect(leadView.acknowledgedBy).toBe('a colleague at WMP');
    expect(leadView.acknowledgements.map((a) => a.by)).toEqual(['a colleague at WMP', 'you', 'someone at another organisation']);
    // No reader but an auditor is shown a subject id or an issuer: not the lead's, not the colleague's.
    const everything = JSON.stringify([seenByTwin, stream.alerts(), twinView, await alertsOf(lead), await alertsOf(colleague)]);
    for (const id of ['wmp-missing-lead', 'wmp-other-officer', 'mcx-dev-issuer', OTHER_ISSUER]) expect(everything).not.toContain(id);
    const auditor = await nodes.WMP.as({ roles: ['investigator', 'auditor'], subject: 'wmp-auditor', headers: readHeaders('WMP') });
    expect((await alertsOf(auditor)).find((a) => a.id === crossMatch.id)!.acknowledgements.map((a) => a.by)).toEqual([
      'mcx-dev-issuer wmp-other-officer',
      'mcx-dev-issuer wmp-missing-lead',
      `${OTHER_ISSUER} wmp-missing-lead`,
    ]);
  });
});
