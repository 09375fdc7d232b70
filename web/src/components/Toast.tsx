// A brief message that goes by itself, as WhatsApp's toasts ("Code copied"). The live
// region is always in the page, only its text changes: screen readers announce a change
// in a region they already know, not a region that appears with its text. (aria-live
// rather than role=status: the phone's lasting notices are its status.)

import { useCallback, useEffect, useRef, useState } from 'react';

const SHOWN_MS = 2500;

/** The toast's text (undefined when none shows) and `show`, which replaces it and restarts its time. */
export function useToast(): [string | undefined, (text: string) => void] {
  const [text, setText] = useState<string>();
  const timer = useRef<number>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  const show = useCallback((next: string) => {
    window.clearTimeout(timer.current);
    setText(next);
    timer.current = window.setTimeout(() => setText(undefined), SHOWN_MS);
  }, []);
  return [text, show];
}

export function Toast({ text }: { text: string | undefined }) {
  return (
    <div className="toast-region" aria-live="polite" aria-atomic="true">
      {text ? <span className="toast">{text}</span> : null}
    </div>
  );
}
