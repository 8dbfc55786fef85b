import { useState, type FormEvent } from 'react';

import { devSignIn, oidcSignIn, type Session } from '../session';
import type { ConsoleSettings } from '../settings';
import { forceName, words } from '../words';

export function SignIn(props: {
  settings: ConsoleSettings;
  signedOut: string | null;
  initialError: string | null;
  onSignedIn: (s: Session) => void;
}) {
  const { settings } = props;
  const dev = settings.devSignIn;
  const [role, setRole] = useState(dev?.roles[0] ?? 'investigator');
  const [force, setForce] = useState(dev?.forces[0] ?? settings.force);
  const [error, setError] = useState<string | null>(props.initialError);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      props.onSignedIn(await devSignIn(role, force));
    } catch (err) {
      setError(err instanceof Error ? err.message : 'the sign-in failed');
    }
  };

  return (
    <>
      <h1 className="govuk-heading-l" tabIndex={-1}>
        Sign in to the MCX console
      </h1>
      {props.signedOut && (
        <div className="govuk-notification-banner" role="region" aria-labelledby="signed-out-title">
          <div className="govuk-notification-banner__header">
            <h2 className="govuk-notification-banner__title" id="signed-out-title">
              Signed out
            </h2>
          </div>
          <div className="govuk-notification-banner__content">
            <p className="govuk-notification-banner__heading">
              {props.signedOut === 'idle' ? 'You were signed out because the console was idle.' : 'You have signed out.'} Nothing from your
              searches is kept on this computer.
            </p>
          </div>
        </div>
      )}
      {error && (
        <div className="govuk-error-summary" role="alert">
          <h2 className="govuk-error-summary__title">There is a problem</h2>
          <p className="govuk-body">{error}</p>
        </div>
      )}
      {settings.oidc.length > 0 && (
        <>
          <p className="govuk-body">Sign in with your organisation's account.</p>
          {settings.oidc.map((c) => (
            <button key={c.issuerId} type="button" className="govuk-button" onClick={() => void oidcSignIn(settings, c.issuerId)}>
              Sign in with {c.label}
            </button>
          ))}
        </>
      )}
      {settings.oidc.length === 0 && !dev && <p className="govuk-body">No sign-in is configured on this node. Ask its operator.</p>}
      {dev && (
        <form onSubmit={(e) => void submit(e)} noValidate>
          <h2 className="govuk-heading-m">Development sign-in</h2>
          <div className="govuk-warning-text">
            <span className="govuk-warning-text__icon" aria-hidden="true">
              !
            </span>
            <strong className="govuk-warning-text__text">
              <span className="govuk-visually-hidden">Warning</span>
              For development only: it mints a token from the development issuer. Production nodes do not offer it.
            </strong>
          </div>
          <div className="govuk-form-group">
            <label className="govuk-label" htmlFor="dev-role">
              Role
            </label>
            <select className="govuk-select" id="dev-role" value={role} onChange={(e) => setRole(e.target.value)}>
              {dev.roles.map((r) => (
                <option key={r} value={r}>
                  {words(r)}
                </option>
              ))}
            </select>
          </div>
          <div className="govuk-form-group">
            <label className="govuk-label" htmlFor="dev-force">
              Force
            </label>
            <select className="govuk-select" id="dev-force" value={force} onChange={(e) => setForce(e.target.value)}>
              {dev.forces.map((f) => (
                <option key={f} value={f}>
                  {forceName(f)} ({f})
                </option>
              ))}
            </select>
          </div>
          <button type="submit" className="govuk-button">
            Sign in for development
          </button>
        </form>
      )}
    </>
  );
}
