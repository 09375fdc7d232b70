// A modal dialog over the page: the browser's own <dialog>, opened with showModal(), so the
// rest of the page is inert (focus stays inside), Escape closes it, and the first field
// gets the focus. When it goes, the focus goes back to what opened it.

import { useEffect, useId, useRef, useState, type ReactNode } from 'react';

export function Dialog({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  // Read when first drawn, before the dialog takes the focus.
  const [opener] = useState(() => (document.activeElement instanceof HTMLElement ? document.activeElement : null));

  useEffect(() => {
    const dialog = ref.current;
    // Already open when React's strict mode runs this effect a second time.
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      if (opener?.isConnected) opener.focus();
    };
  }, [opener]);

  return (
    // `close` follows Escape too: the parent then stops drawing the dialog.
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} onClose={onClose}>
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}
