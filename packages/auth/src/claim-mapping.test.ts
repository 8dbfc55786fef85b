import { describe, expect, it } from 'vitest';

import { mapRoles, viewerFromClaims } from './claim-mapping.js';
import { DEV_ISSUER, type IssuerConfig } from './issuers.js';
import { ENTRA_ISSUER, ENTRA_TENANT, FIXED_NOW, LA_ISSUER, NOW_SEC, signWith } from './test-fixtures.js';
import { createTokenVerifier } from './verify-token.js';

const verifier = createTokenVerifier({ issuers: [ENTRA_ISSUER, LA_ISSUER], now: () => FIXED_NOW });

function entraClaims(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    iss: ENTRA_ISSUER.issuer,
    aud: ENTRA_ISSUER.audience,
    tid: ENTRA_TENANT,
    sub: 'pairwise-sub-abc',
    oid: '6f1c2e3a-0000-4000-8000-0000000000aa',
    iat: NOW_SEC - 60,
    nbf: NOW_SEC - 60,
    exp: NOW_SEC + 3600,
    ver: '2.0',
    ...overrides,
  };
}

describe('Entra mapping (through the verifier)', () => {
  it('maps a delegated user token: roles and scp through roleMap, subject from oid', async () => {
    const jwt = await signWith('entra', entraClaims({ idtyp: 'user', scp: 'Records.Read User.Read', roles: [] }), {
      typ: 'JWT',
    });
    expect(await verifier.verify(jwt)).toEqual({
      subject: '6f1c2e3a-0000-4000-8000-0000000000aa',
      issuer: ENTRA_ISSUER.issuer,
      force: 'WMP',
      orgKind: 'police',
      roles: ['investigator'],
      tokenKind: 'user',
    });
  });

  it('maps an app-only (client-credentials) token from idtyp app and roles', async () => {
    const jwt = await signWith('entra', entraClaims({ idtyp: 'app', roles: ['MCX.Publisher'] }), { typ: 'JWT' });
    expect(await verifier.verify(jwt)).toMatchObject({ roles: ['publisher'], tokenKind: 'client', force: 'WMP' });
  });

  it('treats a token without idtyp and without scp as a client token', async () => {
    const jwt = await signWith('entra', entraClaims({ roles: ['MCX.Investigator'] }), { typ: 'JWT' });
    expect(await verifier.verify(jwt)).toMatchObject({ tokenKind: 'client' });
  });

  it('ignores scopes on an app token, so it maps to no role', async () => {
    const jwt = await signWith('entra', entraClaims({ idtyp: 'app', scp: 'Records.Read' }), { typ: 'JWT' });
    await expect(verifier.verify(jwt)).rejects.toMatchObject({ code: 'TOKEN_NO_ROLES' });
  });
});

describe('plain mapping', () => {
  const plain = (claims: Record<string, unknown>, config: IssuerConfig = LA_ISSUER) => viewerFromClaims(config, { sub: 'u1', ...claims });

  it.each([
    ['roles array', { roles: ['mcx.investigate', 'mcx.audit'] }, ['investigator', 'auditor']],
    ['roles space-separated', { roles: 'mcx.publish mcx.investigate' }, ['publisher', 'investigator']],
    ['single role claim', { role: 'mcx.audit' }, ['auditor']],
    ['unknown names ignored', { roles: ['mcx.investigate', 'admin', 'constructor'] }, ['investigator']],
  ])('reads roles from %s', (_label, claims, roles) => {
    expect(plain(claims).roles).toEqual(roles);
  });

  it.each([
    ['mcx_token_kind client', { mcx_token_kind: 'client' }, 'client'],
    ['mcx_token_kind user', { mcx_token_kind: 'user' }, 'user'],
    ['gty client-credentials', { gty: 'client-credentials' }, 'client'],
    ['sub equals client_id', { sub: 'svc-rms', client_id: 'svc-rms' }, 'client'],
    ['a user signed in through a client', { client_id: 'mcx-portal' }, 'user'],
    ['a client signal beats mcx_token_kind user', { mcx_token_kind: 'user', gty: 'client-credentials' }, 'client'],
  ])('token kind from %s', (_label, claims, kind) => {
    expect(plain({ roles: ['mcx.publish'], ...claims }).tokenKind).toBe(kind);
  });

  it.each([
    ['unknown mcx_token_kind', { roles: ['mcx.publish'], mcx_token_kind: 'robot' }],
    ['no subject', { sub: undefined, roles: ['mcx.publish'] }],
    ['roles of the wrong type', { roles: 42 }],
    // Every read is audited under its subject, and the audit log holds printable ASCII identifiers only.
    ['a subject with a space', { sub: 'Jo Bloggs', roles: ['mcx.investigate'] }],
    ['a subject outside printable ASCII', { sub: 'jos\u00e9', roles: ['mcx.investigate'] }],
  ])('refuses %s as malformed', (_label, claims) => {
    expect(() => plain(claims)).toThrow(expect.objectContaining({ code: 'TOKEN_MALFORMED' }));
  });

  it('takes the force and organisation kind from the configuration, ignoring token claims', () => {
    const viewer = plain({ roles: ['mcx.publish'], mcx_force: 'MPS', mcx_org_kind: 'police' });
    expect(viewer).toMatchObject({ force: 'LA-BHM', orgKind: 'local_authority' });
  });

  it('lets only the development issuer carry force and organisation kind in claims', () => {
    const dev: IssuerConfig = { ...LA_ISSUER, issuer: DEV_ISSUER, roleMap: undefined };
    const viewer = plain({ roles: ['publisher'], mcx_force: 'MPS', mcx_org_kind: 'police' }, dev);
    expect(viewer).toMatchObject({ force: 'MPS', orgKind: 'police', roles: ['publisher'] });
  });

  it('maps exact MCX role names when there is no roleMap', () => {
    expect(mapRoles(['investigator', 'mcx.audit', 'router'], undefined)).toEqual(['investigator', 'router']);
  });
});
