import { Fragment } from 'react';

/**
 * A command to copy into a terminal. It wraps only between its words, never inside one: at the
 * hyphen of `--holder-key`, a wrapped flag reads as two. Copied, it is the plain command.
 */
export function Command({ label, command }: { label: string; command: string }) {
  return (
    <pre className="mcx-code" tabIndex={0} aria-label={label}>
      <code>
        {command.split(' ').map((word, i) => (
          <Fragment key={i}>
            {i > 0 && ' '}
            <span className="mcx-code__word">{word}</span>
          </Fragment>
        ))}
      </code>
    </pre>
  );
}
