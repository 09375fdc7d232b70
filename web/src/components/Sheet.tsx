// The bottom sheet the phone opens over its chat (a list message's rows, sharing a location,
// a Flow): a modal dialog, so keyboard focus stays inside it until it closes, Escape closes
// it, and focus goes back to what opened it.

import { useEffect, useRef, type ReactNode } from 'react';

const FOCUSABLE = [
  'a[href]',
  'button:not([disabled])',
  'input:not([disabled]):not([type="hidden"])',
  'select:not([disabled])',
  'textarea:not([disabled])',
  '[tabindex]:not([tabindex="-1"])',
].join(', ');

/**
 * What Tab can reach inside `root`, in order. A group of radio buttons is one stop, as the
 * browser makes it: the checked one, or the first when none is.
 */
export function tabbables(root: HTMLElement): HTMLElement[] {
  const all = Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter(
    (el) => !el.closest('[hidden]') && !el.classList.contains('focus-guard'),
  );
  const seen = new Set<string>();
  return all.filter((el) => {
    if (!(el instanceof HTMLInputElement) || el.type !== 'radio' || !el.name) return true;
    const group = all.filter((o): o is HTMLInputElement => o instanceof HTMLInputElement && o.type === 'radio' && o.name === el.name);
    const stop = group.find((r) => r.checked) ?? group[0];
    if (seen.has(el.name) || el !== stop) return false;
    seen.add(el.name);
    return true;
  });
}

export function Sheet({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  const close = useRef(onClose);
  useEffect(() => {
    close.current = onClose;
  });

  // Focus the first field (not the close button), and give focus back on close.
  useEffect(() => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const first = ref.current?.querySelector<HTMLElement>('input, button:not(.sheet-close), textarea, select');
    (first ?? ref.current)?.focus();
    return () => {
      if (previous?.isConnected) previous.focus();
    };
  }, []);

  // Escape closes wherever the focus is (also on the page behind, after a click there).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented) return;
      e.preventDefault();
      close.current();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  // Tab past the last control lands on the guard after it and wraps to the first; Shift+Tab
  // past the first lands on the guard before it and wraps to the last.
  const wrap = (to: 'first' | 'last') => () => {
    const sheet = ref.current;
    if (!sheet) return;
    const stops = tabbables(sheet);
    const target = to === 'first' ? stops[0] : stops[stops.length - 1];
    (target ?? sheet).focus();
  };

  return (
    <div className="sheet-backdrop" onClick={onClose}>
      <span className="focus-guard" tabIndex={0} onFocus={wrap('last')} />
      <div
        className="sheet"
        role="dialog"
        aria-modal="true"
        aria-label={title}
        ref={ref}
        // A click on the sheet's text keeps the focus in the sheet, so Tab goes on from there.
        tabIndex={-1}
        onClick={(e) => e.stopPropagation()}
      >
        <div className="sheet-head">
          <button type="button" className="sheet-close" onClick={onClose} aria-label="Close">
            ✕
          </button>
          <h3>{title}</h3>
        </div>
        {children}
      </div>
      <span className="focus-guard" tabIndex={0} onFocus={wrap('first')} />
    </div>
  );
}
