import { useCallback, useEffect, useState } from 'react';

import { ApiError } from '../api';
import { refusalWords } from '../words';

export interface Loaded<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  /** `data` answers other arguments than the page now asks for (a new filter or page is on its way): do not show it as the answer. */
  stale: boolean;
  reload: () => void;
}

/** Runs `fn` when the page opens (and on reload): its answer is held by the page only. */
export function useLoad<T>(fn: (() => Promise<T>) | null, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  // The arguments `data` answers, to tell an old answer from the one the page now asks for.
  const [answers, setAnswers] = useState<unknown[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(false);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!fn) return;
    let live = true;
    setLoading(true);
    setError(null);
    fn()
      .then((d) => {
        if (!live) return;
        setData(d);
        setAnswers(deps);
      })
      .catch((err: unknown) => live && setError(err instanceof ApiError ? err : new ApiError(undefined)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [tick, ...deps]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const stale = answers === null || answers.length !== deps.length || answers.some((a, i) => !Object.is(a, deps[i]));
  return { data, error, loading, stale: data !== null && stale, reload };
}

/** The node's refusal, in words: a role that may not use the page is told so plainly. */
export function Refusal({ error, role }: { error: ApiError | null; role: string | null }) {
  if (!error) return null;
  const forbidden = error.code === 'FORBIDDEN';
  return (
    <div className="govuk-error-summary" role="alert" aria-labelledby="refusal-title" tabIndex={-1}>
      <h2 className="govuk-error-summary__title" id="refusal-title">
        {forbidden ? 'You cannot open this page' : 'There is a problem'}
      </h2>
      <div className="govuk-error-summary__body">
        <p className="govuk-body">
          {forbidden
            ? `Your role${role ? ` (${role})` : ''} may not see this. The node refused the request (${error.reason ?? error.code}), and the refusal is recorded in its audit log.`
            : refusalWords(error.code, error.reason)}
        </p>
      </div>
    </div>
  );
}

export function Loading({ loading }: { loading: boolean }) {
  return (
    <p className="govuk-body mcx-loading" role="status" aria-live="polite">
      {loading ? 'Loading…' : ''}
    </p>
  );
}

/** `2026-11-30` for a date input, `days` from today (local time). */
export function dayInput(days = 0): string {
  const d = new Date();
  d.setDate(d.getDate() + days);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** A window from the start of one local day to the end of another, as ISO instants. */
export const windowOf = (from: string, to: string) => ({
  from: new Date(`${from}T00:00:00`).toISOString(),
  to: new Date(`${to}T23:59:59.999`).toISOString(),
});
