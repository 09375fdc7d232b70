// The template form's model, the 8x8 creation body it produces, and the checks it runs
// while the person types. The checks mirror the server's (crates/core/src/templates/spec.rs)
// so mistakes show at once; the server stays the judge and its answer is shown as is.

import type { TemplateButtonDef, TemplateComponent } from '../api/types';

export type HeaderFormat = 'NONE' | 'TEXT' | 'IMAGE' | 'VIDEO' | 'DOCUMENT' | 'LOCATION';
export type ButtonType = 'QUICK_REPLY' | 'URL' | 'PHONE_NUMBER';

export interface ButtonForm {
  type: ButtonType;
  text: string;
  url: string;
  example: string;
  phoneNumber: string;
}

export interface TemplateForm {
  name: string;
  language: string;
  category: 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';
  allowCategoryChange: boolean;
  headerFormat: HeaderFormat;
  headerText: string;
  headerExample: string;
  headerMediaUrl: string;
  body: string;
  bodyExamples: string[];
  footer: string;
  buttons: ButtonForm[];
}

export const EMPTY_FORM: TemplateForm = {
  name: '',
  language: 'en_US',
  category: 'UTILITY',
  allowCategoryChange: true,
  headerFormat: 'NONE',
  headerText: '',
  headerExample: '',
  headerMediaUrl: '',
  body: '',
  bodyExamples: [],
  footer: '',
  buttons: [],
};

export const LIMITS = {
  name: 512,
  header: 60,
  body: 1024,
  footer: 60,
  buttonLabel: 25,
  buttons: 10,
  urlButtons: 2,
  phoneButtons: 1,
  url: 2000,
};

/** Placeholder numbers of `text`, or the problem with them (as the server words it). */
export function placeholders(text: string): { count: number; error?: string; positions: { start: number; end: number }[] } {
  let highest = 0;
  const positions: { start: number; end: number }[] = [];
  let rest = 0;
  for (;;) {
    const open = text.indexOf('{{', rest);
    if (open < 0) break;
    const close = text.indexOf('}}', open);
    if (close < 0) return { count: highest, error: 'a placeholder is not closed: write {{1}}', positions };
    const inner = text.slice(open + 2, close).trim();
    if (!/^\d+$/.test(inner)) {
      return { count: highest, error: `placeholder {{${inner}}} is not positional; use {{1}}, {{2}}, … in order`, positions };
    }
    const n = Number(inner);
    if (n === 0 || n > highest + 1) {
      return {
        count: highest,
        error: `placeholders must be numbered in order without gaps: expected {{${highest + 1}}}, found {{${n}}}`,
        positions,
      };
    }
    highest = Math.max(highest, n);
    positions.push({ start: open, end: close + 2 });
    rest = close + 2;
  }
  if (text.slice(rest).includes('}}')) return { count: highest, error: 'a placeholder is not closed: write {{1}}', positions };
  return { count: highest, positions };
}

/** Characters as the server counts them (code points). */
const chars = (s: string) => Array.from(s).length;

function isWebUrl(u: string): boolean {
  try {
    const url = new URL(u);
    return (url.protocol === 'http:' || url.protocol === 'https:') && !!url.host;
  } catch {
    return false;
  }
}

export type Errors = Partial<Record<string, string>>;

export function validate(f: TemplateForm): Errors {
  const e: Errors = {};
  const name = f.name.trim();
  if (!name) e.name = 'A name is required.';
  else if (chars(name) > LIMITS.name) e.name = `At most ${LIMITS.name} characters.`;
  else if (!/^[a-z0-9_]+$/.test(name)) e.name = 'Only lowercase letters, digits and underscores.';

  if (!/^[a-zA-Z]{2,3}([_-][a-zA-Z0-9]{2,4})?$/.test(f.language.trim())) e.language = 'A language code such as en or en_US.';

  if (f.headerFormat === 'TEXT') {
    const p = placeholders(f.headerText);
    if (!f.headerText.trim()) e.headerText = 'Write the header, or choose no header.';
    else if (chars(f.headerText) > LIMITS.header) e.headerText = `At most ${LIMITS.header} characters (now ${chars(f.headerText)}).`;
    else if (p.error) e.headerText = p.error;
    else if (p.count > 1) e.headerText = 'A header may have at most one variable.';
    else if (p.count === 1 && !f.headerExample.trim()) e.headerExample = 'Give a sample value for {{1}}.';
  }
  if (f.headerFormat === 'IMAGE' || f.headerFormat === 'VIDEO' || f.headerFormat === 'DOCUMENT') {
    if (!isWebUrl(f.headerMediaUrl.trim())) e.headerMediaUrl = `A sample ${f.headerFormat.toLowerCase()} URL (http or https) for the review.`;
  }
  if (f.headerFormat === 'LOCATION' && f.category === 'AUTHENTICATION') {
    e.headerFormat = 'A location header is only allowed in utility and marketing templates.';
  }

  const body = f.body;
  const p = placeholders(body);
  if (!body.trim()) e.body = 'The body is required.';
  else if (chars(body) > LIMITS.body) e.body = `At most ${LIMITS.body} characters (now ${chars(body)}).`;
  else if (p.error) e.body = p.error;
  else {
    const trimmedStart = body.length - body.trimStart().length;
    const trimmedEnd = body.trimEnd().length;
    const first = p.positions[0];
    const last = p.positions[p.positions.length - 1];
    if ((first && first.start === trimmedStart) || (last && last.end === trimmedEnd)) {
      e.body = 'The body must not start or end with a variable; put words around it.';
    } else if (p.positions.some((pos, i) => i > 0 && body.slice(p.positions[i - 1]?.end, pos.start).trim() === '')) {
      e.body = 'Two variables side by side; put words between them.';
    } else {
      for (let i = 0; i < p.count; i++) {
        if (!f.bodyExamples[i]?.trim()) {
          e[`bodyExample${i}`] = `Give a sample value for {{${i + 1}}}.`;
        }
      }
    }
  }

  if (f.footer) {
    if (chars(f.footer) > LIMITS.footer) e.footer = `At most ${LIMITS.footer} characters (now ${chars(f.footer)}).`;
    else if (f.footer.includes('{{')) e.footer = 'The footer cannot have variables.';
  }

  if (f.buttons.length > LIMITS.buttons) e.buttons = `At most ${LIMITS.buttons} buttons.`;
  const count = (t: ButtonType) => f.buttons.filter((b) => b.type === t).length;
  if (count('URL') > LIMITS.urlButtons) e.buttons = `At most ${LIMITS.urlButtons} URL buttons.`;
  if (count('PHONE_NUMBER') > LIMITS.phoneButtons) e.buttons = 'At most one phone number button.';
  const finished: ButtonType[] = [];
  f.buttons.forEach((b, i) => {
    const prev = f.buttons[i - 1];
    if (prev && prev.type !== b.type) {
      finished.push(prev.type);
      if (finished.includes(b.type)) e.buttons = 'Buttons of the same type must be next to each other.';
    }
    if (!b.text.trim()) e[`button${i}.text`] = 'The label is required.';
    else if (chars(b.text.trim()) > LIMITS.buttonLabel) e[`button${i}.text`] = `At most ${LIMITS.buttonLabel} characters.`;
    if (b.type === 'URL') {
      const u = b.url.trim();
      const vars = placeholders(u);
      if (!isWebUrl(u.replace('{{1}}', 'x')) || chars(u) > LIMITS.url) e[`button${i}.url`] = 'An http(s) URL.';
      else if (vars.count > 1 || (vars.positions[0] && vars.positions[0].end !== u.length)) {
        e[`button${i}.url`] = 'The URL may have one variable {{1}}, at its very end.';
      } else if (vars.count === 1 && !b.example.trim()) e[`button${i}.example`] = 'Give a sample value for {{1}}.';
    }
    if (b.type === 'PHONE_NUMBER') {
      const digits = b.phoneNumber.trim().replace(/^\+/, '');
      if (!/^\d{4,19}$/.test(digits)) e[`button${i}.phoneNumber`] = 'A phone number: digits, with an optional +.';
    }
  });
  return e;
}

/** The components in 8x8's creation shape. */
export function components(f: TemplateForm): TemplateComponent[] {
  const out: TemplateComponent[] = [];
  if (f.headerFormat === 'TEXT') {
    const c: TemplateComponent = { type: 'HEADER', format: 'TEXT', text: f.headerText };
    if (placeholders(f.headerText).count === 1) c.examples = [f.headerExample];
    out.push(c);
  } else if (f.headerFormat === 'LOCATION') {
    out.push({ type: 'HEADER', format: 'LOCATION' });
  } else if (f.headerFormat !== 'NONE') {
    out.push({ type: 'HEADER', format: f.headerFormat, examples: [f.headerMediaUrl.trim()] });
  }
  const count = placeholders(f.body).count;
  const body: TemplateComponent = { type: 'BODY', text: f.body };
  if (count > 0) body.examples = f.bodyExamples.slice(0, count);
  out.push(body);
  if (f.footer.trim()) out.push({ type: 'FOOTER', text: f.footer });
  if (f.buttons.length) {
    out.push({
      type: 'BUTTONS',
      buttons: f.buttons.map((b) => {
        if (b.type === 'URL') {
          const button: TemplateButtonDef = {
            type: 'URL',
            text: b.text.trim(),
            url: b.url.trim(),
          };
          if (b.url.includes('{{1}}')) button.example = [b.example];
          return button;
        }
        if (b.type === 'PHONE_NUMBER') return { type: 'PHONE_NUMBER', text: b.text.trim(), phoneNumber: b.phoneNumber.trim() };
        return { type: 'QUICK_REPLY', text: b.text.trim() };
      }),
    });
  }
  return out;
}

export function createBody(f: TemplateForm): Record<string, unknown> {
  return {
    name: f.name.trim(),
    language: f.language.trim(),
    category: f.category,
    allowCategoryChange: f.allowCategoryChange,
    components: components(f),
  };
}
