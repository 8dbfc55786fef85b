import { describe, expect, it } from 'vitest';

import { addressParts } from './Address';

describe('addressParts: where an endpoint may wrap', () => {
  it('never inside an IP address or the port', () => {
    expect(addressParts('http://127.0.0.1:21918')).toEqual(['http://', '127.0.0.1', ':21918']);
    expect(addressParts('https://[::1]:8443/peer/v1')).toEqual(['https://', '[::1]', ':8443', '/', 'peer/', 'v1']);
  });

  it('before each dot of a host name, after each slash, and the parts make the address again', () => {
    const address = 'https://mcx.greater-manchester.police.uk/peer/v1';
    expect(addressParts(address)).toEqual(['https://', 'mcx', '.greater-manchester', '.police', '.uk', '/', 'peer/', 'v1']);
    expect(addressParts(address).join('')).toBe(address);
  });

  it('anything that is not a URL stays whole', () => {
    expect(addressParts('not a url')).toEqual(['not a url']);
  });
});
