import type { ReactNode } from 'react';

/**
 * A wide table on a phone or in a zoomed window: it scrolls within its own labelled region (which
 * a keyboard can reach and scroll), never the whole page sideways.
 */
export function ScrollRegion({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="mcx-table-scroll" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
