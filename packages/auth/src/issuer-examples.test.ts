// deploy/issuers/*.example.json are what a force copies to MCX_ISSUERS_FILE: each must pass the
// node's own checks, production's included, as it stands.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { assertValidIssuerConfigs, productionIssuerProblems, type IssuerConfig } from './issuers.js';

const DIR = fileURLToPath(new URL('../../../deploy/issuers/', import.meta.url));

describe('the example issuers files', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.example.json'));

  it('there is one for Entra ID and one for Keycloak', () => {
    expect(files.sort()).toEqual(['entra-id.example.json', 'keycloak.example.json']);
  });

  it.each(files)('%s is valid and production accepts it', (file) => {
    const issuers = JSON.parse(readFileSync(`${DIR}${file}`, 'utf8')) as IssuerConfig[];
    expect(() => assertValidIssuerConfigs(issuers)).not.toThrow();
    expect(productionIssuerProblems(issuers)).toEqual([]);
  });
});
