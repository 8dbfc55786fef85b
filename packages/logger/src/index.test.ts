import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, scrubMessage } from './index.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, logger: createLogger({ destination, level: 'debug' }) };
}

describe('logger redaction', () => {
  it('censors personal fields at any listed depth', () => {
    const { lines, logger } = capture();
    logger.info({ forename: 'Olivia', input: { surname: 'Hartwell', dob: '2009-04-02' }, a: { b: { nhsNumber: '9990001112' } } }, 'publish');
    const out = lines.join('');
    expect(out).not.toMatch(/Olivia|Hartwell|2009-04-02|9990001112/);
    expect(out).toContain('[redacted]');
  });

  it('scrubs values that graphql-js echoes into error messages', () => {
    const msg = 'Variable "$input" got invalid value "Olivia Hartwell" at "input.lastSeenAt"; Expected type "DateTime".';
    const scrubbed = scrubMessage(msg);
    expect(scrubbed).not.toContain('Olivia');
    expect(scrubbed).toContain('"$input"');
  });

  it('scrubs error objects logged under err', () => {
    const { lines, logger } = capture();
    logger.error({ err: new Error('Variable "$x" got invalid value { "forename": "Tallulah" }; bad') }, 'failed');
    expect(lines.join('')).not.toContain('Tallulah');
  });

  it('scrubs a free-text message argument', () => {
    const { lines, logger } = capture();
    logger.warn('lookup failed for "Tallulah Bramwell"');
    expect(lines.join('')).not.toContain('Tallulah');
  });
});
