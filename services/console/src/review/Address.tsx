import { Fragment } from 'react';

/**
 * Where an address may wrap: after `://` and each `/`, before the port's `:`, and before each `.`
 * of a host name (never inside an IP address, a label or the port). A cell that wraps anywhere
 * would split `127.0.0.1` into `127.0` and `.0.1`.
 */
export function addressParts(address: string): string[] {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(\[[^\]]*\]|[^/:?#]+)(:\d+)?(.*)$/i.exec(address);
  if (!m) return [address];
  const [, scheme, host, port, rest] = m as unknown as [string, string, string, string | undefined, string];
  const ip = /^[\d.]+$/.test(host) || host.startsWith('[');
  const hostParts = ip ? [host] : host.split(/(?=\.)/);
  const restParts = rest ? rest.split(/(?<=\/)/) : [];
  return [scheme, ...hostParts, ...(port ? [port] : []), ...restParts].filter((p) => p !== '');
}

/** An endpoint's address, wrapping only where addressParts allows. */
export function Address({ address }: { address: string }) {
  return (
    <span className="mcx-address">
      {addressParts(address).map((part, i) => (
        <Fragment key={i}>
          {i > 0 && <wbr />}
          {part}
        </Fragment>
      ))}
    </span>
  );
}
