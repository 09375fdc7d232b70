// Small shared pieces: error and notice banners, status pills, the page header, a labelled
// field with its hint and error.

import type { ReactNode } from 'react';

export function ErrorBanner({ error, onDismiss }: { error: string | undefined; onDismiss?: () => void }) {
  if (!error) return null;
  return (
    <div className="banner banner-error" role="alert">
      <span>{error}</span>
      {onDismiss ? (
        <button type="button" className="link-button" onClick={onDismiss} aria-label="Dismiss error">
          ✕
        </button>
      ) : null}
    </div>
  );
}

export function Notice({ children }: { children: ReactNode }) {
  return (
    <div className="banner banner-info" role="status">
      {children}
    </div>
  );
}

const TONE: Record<string, string> = {
  APPROVED: 'good',
  ACTIVE: 'good',
  delivered: 'good',
  read: 'good',
  healthy: 'good',
  GREEN: 'good',
  PENDING: 'wait',
  IN_APPEAL: 'wait',
  queued: 'wait',
  sent: 'wait',
  pending: 'wait',
  YELLOW: 'wait',
  PAUSED: 'warn',
  FLAGGED: 'warn',
  REJECTED: 'bad',
  DISABLED: 'bad',
  undelivered: 'bad',
  rejected: 'bad',
  failed: 'bad',
  dead: 'bad',
  failing: 'bad',
  RED: 'bad',
};

export function Pill({ value }: { value: string }) {
  return <span className={`pill pill-${TONE[value] ?? 'plain'}`}>{value}</span>;
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1>{title}</h1>
      {children ? <div className="page-actions">{children}</div> : null}
    </header>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** A labelled input: `children` draws it with the id and the ARIA attributes that tie it to its hint and error. */
export function Field({
  id,
  label,
  error,
  hint,
  children,
}: {
  id: string;
  label: string;
  error?: string;
  hint?: ReactNode;
  children: (props: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => ReactNode;
}) {
  const describedBy = [error ? `${id}-error` : '', hint ? `${id}-hint` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': !!error, 'aria-describedby': describedBy })}
      {hint ? (
        <span className="hint" id={`${id}-hint`}>
          {hint}
        </span>
      ) : null}
      {error ? (
        <span className="field-error" id={`${id}-error`} role="alert">
          {error}
        </span>
      ) : null}
    </div>
  );
}
