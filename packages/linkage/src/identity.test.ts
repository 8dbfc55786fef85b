import { describe, expect, it } from 'vitest';

import { McxError } from '@mcx/errors';

import {
  canonicalChiNumber,
  canonicalNhsNumber,
  canonicalPhone,
  canonicalPncId,
  canonicalVehicleReg,
  formatPncId,
  parseIdentity,
  pncCheckLetter,
  validateIdentity,
} from './identity.js';

const now = new Date('2025-06-01T12:00:00Z');

describe('NHS number', () => {
  it('accepts a valid modulus 11 number, with or without spaces', () => {
    expect(canonicalNhsNumber('9990000026')).toBe('9990000026');
    expect(canonicalNhsNumber('999 000 0034')).toBe('9990000034');
    expect(canonicalNhsNumber('999-000-0026')).toBe('9990000026');
  });
  it('rejects a wrong check digit, a check digit of 10, and wrong lengths', () => {
    expect(canonicalNhsNumber('9990000027')).toBeNull();
    expect(canonicalNhsNumber('9990000000')).toBeNull(); // weighted sum gives check 10
    expect(canonicalNhsNumber('999000002')).toBeNull();
    expect(canonicalNhsNumber('99900000261')).toBeNull();
    expect(canonicalNhsNumber('99900000a6')).toBeNull();
  });
});

describe('CHI number', () => {
  it('accepts DDMMYY + 3 digits + modulus 11 check', () => {
    expect(canonicalChiNumber('0101101236')).toBe('0101101236');
    expect(canonicalChiNumber('290200 1118')).toBe('2902001118'); // 29 Feb 2000
  });
  it('rejects an impossible date or a bad check digit', () => {
    expect(canonicalChiNumber('3102101236')).toBeNull(); // 31 Feb
    expect(canonicalChiNumber('2902011118')).toBeNull(); // 29 Feb 1901/2001
    expect(canonicalChiNumber('0101101237')).toBeNull();
  });
});

describe('PNC ID', () => {
  it('computes the check letter: (YY + 7-digit serial) mod 23 over ZABCDEFGHJKLMNPQRTUVWXY', () => {
    expect(pncCheckLetter('09', '0100001')).toBe('H');
    expect(pncCheckLetter('08', '0222222')).toBe('R');
    expect(pncCheckLetter('09', '1234567')).toBe('G');
  });
  it('canonicalises short and long forms to YY/NNNNNNNX', () => {
    expect(canonicalPncId('09/100001H')).toBe('09/0100001H');
    expect(canonicalPncId('2009/0100001h')).toBe('09/0100001H');
    expect(canonicalPncId('090100001H')).toBe('09/0100001H');
    expect(formatPncId('09/100001A')).toBe('09/0100001A');
  });
  it('rejects a wrong check letter and bad formats', () => {
    expect(canonicalPncId('09/100001A')).toBeNull();
    expect(canonicalPncId('09/1234567K')).toBeNull();
    expect(canonicalPncId('9/1234567G')).toBeNull();
    expect(canonicalPncId('09/12345678G')).toBeNull();
  });
});

describe('phone', () => {
  it.each([
    ['07700 900123', '+447700900123'],
    ['07700-900-123', '+447700900123'],
    ['+44 (0)7700 900123', '+447700900123'],
    ['0044 7700 900123', '+447700900123'],
    ['447700900123', '+447700900123'],
    ['020 7946 0018', '+442079460018'],
    ['+1 (202) 555-0123', '+12025550123'],
  ])('%s -> %s', (raw, e164) => expect(canonicalPhone(raw)).toBe(e164));
  it.each(['12345', '0770090012', '+44 0770 0900123', 'call me', '+0123456789', '077009001234'])('rejects %s', (raw) =>
    expect(canonicalPhone(raw)).toBeNull(),
  );
});

describe('vehicle registration', () => {
  it('upper-cases and removes spaces and hyphens', () => {
    expect(canonicalVehicleReg('ab12 cde')).toBe('AB12CDE');
    expect(canonicalVehicleReg('A1-ABC')).toBe('A1ABC');
    expect(canonicalVehicleReg('!!')).toBeNull();
  });
});

describe('validateIdentity', () => {
  it('returns canonical identifiers', () => {
    const r = validateIdentity(
      { forename: 'Ava', surname: 'King', dob: '2012-02-29', sex: 'F', nhsNumber: '999 000 0026', phone: '07700 900123' },
      { now },
    );
    expect(r).toEqual({
      ok: true,
      value: { forename: 'Ava', surname: 'King', dob: '2012-02-29', sex: 'F', nhsNumber: '9990000026', phone: '+447700900123' },
    });
  });

  it('collects every issue, with codes, and never echoes the value', () => {
    const bad = {
      forename: '1234',
      dob: '2010-02-30',
      sex: 'Q',
      nhsNumber: '9990000027',
      chiNumber: '3102101236',
      pncId: '09/100001A',
      phone: '0770090012',
      vehicleReg: '##',
    };
    const r = validateIdentity(bad as never, { now });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => [i.field, i.code])).toEqual([
      ['forename', 'NAME_INVALID'],
      ['dob', 'DOB_INVALID'],
      ['sex', 'SEX_INVALID'],
      ['nhsNumber', 'NHS_NUMBER_INVALID'],
      ['chiNumber', 'CHI_NUMBER_INVALID'],
      ['pncId', 'PNC_ID_INVALID'],
      ['phone', 'PHONE_INVALID'],
      ['vehicleReg', 'VEHICLE_REG_INVALID'],
    ]);
    const text = JSON.stringify(r.issues);
    for (const v of Object.values(bad)) expect(text).not.toContain(v);
  });

  it('rejects a dob in the future or before 1900', () => {
    expect(validateIdentity({ dob: '2025-06-02', surname: 'X' }, { now }).ok).toBe(false);
    expect(validateIdentity({ dob: '2025-06-01', surname: 'X' }, { now }).ok).toBe(true);
    expect(validateIdentity({ dob: '1899-12-31', surname: 'X' }, { now }).ok).toBe(false);
  });

  it('treats null and blank as absent, and needs something to link on', () => {
    const r = validateIdentity({ forename: ' ', dob: null, sex: 'U' }, { now });
    expect(r).toMatchObject({ ok: false, issues: [{ code: 'IDENTITY_EMPTY', field: null }] });
  });

  it('parseIdentity throws McxError with the first code', () => {
    try {
      parseIdentity({ surname: 'Hart', nhsNumber: '9990000027' }, { now });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(McxError);
      expect((e as McxError).code).toBe('NHS_NUMBER_INVALID');
      expect((e as McxError).message).not.toContain('9990000027');
    }
  });
});
