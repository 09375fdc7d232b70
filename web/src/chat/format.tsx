// WhatsApp's text formatting, rendered as React elements (never as HTML strings):
// *bold*, _italic_, ~strikethrough~, ```monospace``` and `inline code`, with links made
// clickable. A marker only counts where WhatsApp counts it: it opens before a non-space
// character at a word boundary and closes after one, on the same line.

import type { ReactNode } from 'react';

const EMPHASIS = /(^|[^\p{L}\p{N}*_~])([*_~])(?=\S)([^\n]*?\S)\2(?![\p{L}\p{N}])/u;
const LINK = /\bhttps?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]']/;

function links(text: string, key: string): ReactNode[] {
  const out: ReactNode[] = [];
  let rest = text;
  let i = 0;
  for (;;) {
    const m = LINK.exec(rest);
    if (!m) break;
    if (m.index > 0) out.push(rest.slice(0, m.index));
    out.push(
      <a key={`${key}l${i++}`} href={m[0]} target="_blank" rel="noopener noreferrer">
        {m[0]}
      </a>,
    );
    rest = rest.slice(m.index + m[0].length);
  }
  if (rest) out.push(rest);
  return out;
}

function emphasis(text: string, key: string): ReactNode[] {
  const out: ReactNode[] = [];
  let rest = text;
  let i = 0;
  for (;;) {
    const m = EMPHASIS.exec(rest);
    if (!m) break;
    const [whole, before = '', marker, inner = ''] = m;
    const start = m.index + before.length;
    if (start > 0) out.push(...links(rest.slice(0, start), `${key}t${i}`));
    const k = `${key}e${i++}`;
    const children = emphasis(inner, k);
    if (marker === '*') out.push(<strong key={k}>{children}</strong>);
    else if (marker === '_') out.push(<em key={k}>{children}</em>);
    else out.push(<s key={k}>{children}</s>);
    rest = rest.slice(m.index + whole.length);
  }
  if (rest) out.push(...links(rest, `${key}t${i}`));
  return out;
}

function inlineCode(text: string, key: string): ReactNode[] {
  const parts = text.split(/`([^`\n]+)`/);
  return parts.flatMap((part, i): ReactNode[] =>
    i % 2 === 1 ? [<code key={`${key}c${i}`}>{part}</code>] : emphasis(part, `${key}p${i}`),
  );
}

/** WhatsApp-formatted text as React nodes. */
export function formatWhatsApp(text: string): ReactNode[] {
  const parts = text.split(/```([\s\S]+?)```/);
  return parts.flatMap((part, i): ReactNode[] =>
    i % 2 === 1
      ? [
          <code key={`m${i}`} className="wa-mono">
            {part}
          </code>,
        ]
      : inlineCode(part, `b${i}`),
  );
}

export function WhatsAppText({ text }: { text: string }) {
  return <>{formatWhatsApp(text)}</>;
}
