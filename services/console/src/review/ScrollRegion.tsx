import { useLayoutEffect, useRef, useState, type ReactNode } from 'react';

/**
 * A wide table on a phone or in a zoomed window: it scrolls within its own labelled region (which
 * a keyboard can reach and scroll), never the whole page sideways. While it is wider than the
 * region, a hint above it says so: nothing else shows that columns are out of view.
 */
export function ScrollRegion({ label, children }: { label: string; children: ReactNode }) {
  const region = useRef<HTMLDivElement>(null);
  const [wider, setWider] = useState(false);
  useLayoutEffect(() => {
    const el = region.current;
    if (!el) return;
    const measure = () => setWider(el.scrollWidth > el.clientWidth + 1);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    if (el.firstElementChild) observer.observe(el.firstElementChild);
    return () => observer.disconnect();
  }, []);
  return (
    <>
      {wider && (
        // For sighted readers only: a screen reader reads the table cell by cell, out of view or not.
        <p className="govuk-hint mcx-scroll-hint" aria-hidden="true">
          Scroll sideways to see every column.
        </p>
      )}
      <div className="mcx-table-scroll" role="region" aria-label={label} tabIndex={0} ref={region}>
        {children}
      </div>
    </>
  );
}
