import './styles.scss';
import './review/review.scss';

import { createRoot } from 'react-dom/client';

import { App } from './App';
import { completeOidcSignIn } from './session';
import { loadSettings } from './settings';

document.body.classList.add('js-enabled', 'govuk-frontend-supported');
const root = createRoot(document.getElementById('root')!);
loadSettings()
  .then(async (settings) => {
    let signInError: string | null = null;
    const session = await completeOidcSignIn(settings).catch((err: unknown) => {
      signInError = `The sign-in could not be completed (${err instanceof Error ? err.message : 'no answer'}). Sign in again.`;
      return null;
    });
    root.render(<App settings={settings} initialSession={session} signInError={signInError} />);
  })
  .catch((err: unknown) => {
    root.render(
      <main className="govuk-main-wrapper govuk-width-container" id="main">
        <h1 className="govuk-heading-l">The console cannot start</h1>
        <p className="govuk-body">{err instanceof Error ? err.message : 'the node did not answer'}</p>
      </main>,
    );
  });
