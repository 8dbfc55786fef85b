import { stringifyDocument } from '@urql/core';
import { createClient, type ExecutionResult } from 'graphql-sse';
import { useCallback, useEffect, useRef, useState } from 'react';

import { ApiError, type Api, type CaseContext } from '../api';
import {
  ConsoleAcknowledgeAlertDocument,
  ConsoleAlertAddedDocument,
  ConsoleAlertsDocument,
  type ConsoleAlertAddedSubscription,
  type ConsoleAlertFragment,
} from '../operations';
import type { Session } from '../session';
import { forceName } from '../words';

/** Where the live stream stands, in the words the page shows. */
export type StreamState = 'loading' | 'live' | 'reconnecting' | 'signed-out' | 'too-many' | 'failed';

export interface AlertInbox {
  /** The inbox, newest first. */
  alerts: ConsoleAlertFragment[];
  /** Alerts that arrived on the stream while this page was open (shown as new). */
  fresh: ReadonlySet<string>;
  unacknowledged: number;
  state: StreamState;
  /** What the polite live region says of the last new alert. */
  announcement: string;
  error: ApiError | null;
  acknowledge(id: string): Promise<void>;
}

const PAGE = 200;

/** One alert in a sentence, for the live region: no name, no date of birth, only the member and its reference. */
export function alertHeadline(a: ConsoleAlertFragment): string {
  const at = forceName(a.episode.owner);
  switch (a.kind) {
    case 'CROSS_MATCH':
      return `A child we hold is missing now at ${at}`;
    case 'CROSS_MATCH_SUMMARY':
      return `Other members hold history for a child missing from ${at}`;
    case 'REPEAT_THRESHOLD':
      return `A child reached the repeat missing threshold (latest episode at ${at})`;
    case 'WATCH':
      return `A child you are watching is missing now at ${at}`;
  }
}

function merge(list: ConsoleAlertFragment[], more: ConsoleAlertFragment[]): ConsoleAlertFragment[] {
  const byId = new Map(list.map((a) => [a.id, a]));
  for (const a of more) byId.set(a.id, a);
  return [...byId.values()].sort((x, y) => y.eventNumber - x.eventNumber);
}

/** graphql-sse's refusal of a stream: the node's HTTP status. */
function statusOf(err: unknown): number | null {
  const response = (err as { response?: { status?: unknown } } | null)?.response;
  return typeof response?.status === 'number' ? response.status : null;
}

/**
 * The inbox of this node for the signed-in investigator's case: read once with alerts(after:),
 * then kept live by the alert stream (GraphQL over Server-Sent Events, graphql-sse's client). The
 * stream is opened with the last event number seen, and opened again the same way, with the
 * session's current token, whenever it ends (its token expired, the node restarted, the network
 * dropped): nothing is missed and nothing comes twice.
 */
export function useAlertInbox(api: Api | null, session: Session | null, caseCtx: CaseContext | null): AlertInbox {
  const [alerts, setAlerts] = useState<ConsoleAlertFragment[]>([]);
  const [fresh, setFresh] = useState<ReadonlySet<string>>(new Set());
  const [state, setState] = useState<StreamState>('loading');
  const [announcement, setAnnouncement] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const token = useRef(session?.token ?? '');
  token.current = session?.token ?? '';

  useEffect(() => {
    if (!api || !caseCtx) return;
    let live = true;
    let last = 0;
    let retries = 0;
    let stop: (() => void) | null = null;
    // Each stream's number: a stream given up for alerts(after:) (a capped catch-up) is heard no more.
    let current = 0;
    let timer: number | undefined;
    setAlerts([]);
    setFresh(new Set());
    setState('loading');
    const client = createClient({
      url: '/graphql/stream',
      credentials: 'omit',
      retryAttempts: 0,
      // Live once the node has accepted the stream (its answer's headers came back).
      on: { connected: () => live && setState('live') },
      // Read at each connection: a reconnect goes out with the session's token as it is then.
      headers: () => ({
        authorization: `Bearer ${token.current}`,
        'x-mcx-purpose': caseCtx.purpose,
        'x-mcx-case-ref': caseCtx.caseRef,
      }),
    });
    const again = () => {
      if (!live) return;
      setState('reconnecting');
      const wait = Math.min(30_000, 1_000 * 2 ** Math.min(retries++, 5));
      timer = window.setTimeout(connect, wait);
    };
    function connect() {
      if (!live) return;
      const query = stringifyDocument(ConsoleAlertAddedDocument);
      const mine = ++current;
      stop = client.subscribe<ConsoleAlertAddedSubscription>(
        { query, variables: { after: last } },
        {
          next: (r: ExecutionResult<ConsoleAlertAddedSubscription>) => {
            if (mine !== current) return;
            const a = r.data?.alertAdded;
            if (!a) return; // The stream's end (an expired token) comes as an error, then completes.
            retries = 0;
            last = Math.max(last, a.eventNumber);
            setAlerts((list) => merge(list, [a]));
            setFresh((s) => new Set(s).add(a.id));
            setAnnouncement(`New alert: ${alertHeadline(a)}.`);
            // The node sends a capped catch-up: the rest is read with alerts(after:), then the stream opened again.
            if (r.extensions?.catchUpTruncated === true) {
              current++;
              stop?.();
              stop = null;
              readThenConnect();
            }
          },
          error: (err: unknown) => {
            if (mine !== current) return;
            const status = statusOf(err);
            if (status === 401) return live && setState('signed-out');
            if (status === 429) return live && setState('too-many');
            if (status !== null && status >= 400 && status < 500) return live && setState('failed');
            again();
          },
          complete: () => mine === current && again(),
        },
      );
    }
    /** Every alert after the last seen, page by page with alerts(after:), then the stream from there. */
    function readThenConnect() {
      (async () => {
        for (;;) {
          const page = await api!.query(ConsoleAlertsDocument, { after: last, first: PAGE });
          if (!live) return;
          setAlerts((list) => merge(list, page.alerts.nodes));
          last = Math.max(last, ...page.alerts.nodes.map((n) => n.eventNumber));
          if (page.alerts.nodes.length < PAGE) break;
        }
        connect();
      })().catch((err: unknown) => {
        if (!live) return;
        setError(err instanceof ApiError ? err : new ApiError(undefined));
        setState('failed');
      });
    }
    readThenConnect();
    return () => {
      live = false;
      window.clearTimeout(timer);
      stop?.();
      client.dispose();
    };
  }, [api, caseCtx]);

  const acknowledge = useCallback(
    async (id: string) => {
      if (!api) return;
      const r = await api.mutate(ConsoleAcknowledgeAlertDocument, { id });
      const a = r.acknowledgeAlert;
      if (a) setAlerts((list) => merge(list, [a]));
    },
    [api],
  );

  return {
    alerts,
    fresh,
    unacknowledged: alerts.filter((a) => !a.acknowledgedAt).length,
    state,
    announcement,
    error,
    acknowledge,
  };
}
