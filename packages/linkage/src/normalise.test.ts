import { describe, expect, it } from 'vitest';

import { canonicalForenames, foldText, nameTokens, NORMALISATION_VERSION, normaliseNamePart, phoneticCode } from './normalise.js';

describe('foldText', () => {
  it.each([
    ['  OLIVIA  ', 'olivia'],
    ['Renée', 'renee'],
    ['Seán Ó Briain', 'sean o briain'],
    ['Strauß', 'strauss'],
    ['Søren Ærø', 'soren aero'],
    ['Łukasz Œuvre', 'lukasz oeuvre'],
    ['Þór Đorđe', 'thor dorde'],
    ['Ｊｏｈｎ', 'john'], // fullwidth, NFKD
    ['Mary-Jane', 'mary jane'],
    ["O'Brien", 'obrien'],
    ['O’Brien', 'obrien'],
    ['Smith, Jr.', 'smith jr'],
  ])('%s -> %s', (raw, folded) => expect(foldText(raw)).toBe(folded));
});

describe('normaliseNamePart', () => {
  it('makes hyphens, spaces and apostrophes equivalent', () => {
    const forms = ["O'Brien", 'OBrien', 'O Brien', 'o-brien', 'Ó Brien'];
    expect(new Set(forms.map(normaliseNamePart))).toEqual(new Set(['obrien']));
    expect(normaliseNamePart('Lloyd-Webb')).toBe(normaliseNamePart('Lloyd Webb'));
  });
  it('folds Mac to Mc, including a detached prefix', () => {
    expect(normaliseNamePart('MacDonald')).toBe('mcdonald');
    expect(normaliseNamePart('McDonald')).toBe('mcdonald');
    expect(normaliseNamePart('Mac Donald')).toBe('mcdonald');
    expect(normaliseNamePart('Smith-MacLeod')).toBe('smithmcleod');
    expect(normaliseNamePart('Mack')).toBe('mack'); // too short to be the prefix
  });
  it('keeps non-Latin letters rather than dropping the name', () => {
    expect(normaliseNamePart('Анна')).toBe('анна');
    expect(nameTokens('   ')).toEqual([]);
  });
});

describe('canonicalForenames', () => {
  it('maps nicknames to the canonical name', () => {
    for (const n of ['Bill', 'Will', 'Billy', 'Liam', 'William']) expect(canonicalForenames(n, 'M')).toEqual(['william']);
    for (const n of ['Bob', 'Rob', 'Bobby']) expect(canonicalForenames(n, 'M')).toEqual(['robert']);
    for (const n of ['Kate', 'Katie', 'Cathy', 'Kathryn']) expect(canonicalForenames(n, 'F')).toEqual(['catherine']);
    for (const n of ['Lizzie', 'Beth', 'Libby']) expect(canonicalForenames(n, 'F')).toEqual(['elizabeth']);
    expect(canonicalForenames('Alfie', 'M')).toEqual(['alfred']);
  });
  it('uses sex to pick between readings, and keeps all when sex is unknown', () => {
    expect(canonicalForenames('Ollie', 'M')).toEqual(['oliver']);
    expect(canonicalForenames('Ollie', 'F')).toEqual(['olivia']);
    expect(canonicalForenames('Ollie', 'U')).toEqual(['oliver', 'olivia']);
    expect(canonicalForenames('Ollie')).toEqual(['oliver', 'olivia']);
    expect(canonicalForenames('Alex', 'X')).toEqual(['alexander', 'alexandra']);
  });
  it('keeps a canonical name as itself and leaves unknown names alone', () => {
    expect(canonicalForenames('George', 'F')).toEqual(['george']);
    expect(canonicalForenames('Zebedee', 'M')).toEqual(['zebedee']);
    expect(canonicalForenames('Mary-Jane', 'F')).toEqual(['mary']);
    expect(canonicalForenames('', 'F')).toEqual([]);
  });
});

describe('phoneticCode', () => {
  it('gives the primary double metaphone code', () => {
    expect(phoneticCode('kathryn')).toBe(phoneticCode('catherine'));
    expect(phoneticCode('hussain')).toBe(phoneticCode('hussein'));
    expect(phoneticCode('')).toBe('');
  });
});

describe('NORMALISATION_VERSION', () => {
  it('names the rules and a digest of the nickname table', () => {
    expect(NORMALISATION_VERSION).toMatch(/^n1-[0-9a-f]{8}$/);
  });
});
