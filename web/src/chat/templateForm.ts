// The template form's model, the 8x8 creation body it produces, and the checks it runs
// while the person types. The checks mirror the server's (crates/core/src/templates/spec.rs)
// so mistakes show at once; the server stays the judge and its answer is shown as is.

import type { TemplateButtonDef, TemplateComponent } from '../api/types';

export type HeaderFormat = 'NONE' | 'TEXT' | 'IMAGE' | 'VIDEO' | 'DOCUMENT' | 'LOCATION';
/** `COPY_CODE`: a marketing template's "Copy offer code" (its label is WhatsApp's). */
export type ButtonType = 'QUICK_REPLY' | 'URL' | 'PHONE_NUMBER' | 'COPY_CODE';

export interface ButtonForm {
  type: ButtonType;
  text: string;
  url: string;
  /** The sample of a URL's `{{1}}`, or a copy-code button's sample offer code. */
  example: string;
  phoneNumber: string;
}

/**
 * An authentication template, as Meta shapes it: WhatsApp writes the text ("<code> is your
 * verification code."), the business only picks these options.
 */
export interface AuthenticationForm {
  /** Adds "For your security, do not share this code." to the body. */
  securityRecommendation: boolean;
  /** Whether the footer says when the code expires ("This code expires in N minutes."). */
  expires: boolean;
  /** As typed; 1 to 90. */
  expiryMinutes: string;
  /** The copy-code (OTP) button's label. */
  buttonText: string;
}

/** A carousel's card: its picture or video (the header format is the carousel's), text, buttons. */
export interface CardForm {
  mediaUrl: string;
  body: string;
  bodyExamples: string[];
  buttons: ButtonForm[];
}

/** `STANDARD`: header, body, footer, buttons. `CAROUSEL`: a body, then cards. */
export type TemplateKind = 'STANDARD' | 'CAROUSEL';
export type CardHeaderFormat = 'IMAGE' | 'VIDEO';

export interface TemplateForm {
  kind: TemplateKind;
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
  cardHeaderFormat: CardHeaderFormat;
  cards: CardForm[];
  /** Used instead of the header, body, footer and buttons when the category is AUTHENTICATION. */
  authentication: AuthenticationForm;
}

export const EMPTY_BUTTON = (type: ButtonType): ButtonForm => ({ type, text: '', url: 'https://', example: '', phoneNumber: '' });

export const EMPTY_CARD: CardForm = { mediaUrl: '', body: '', bodyExamples: [], buttons: [EMPTY_BUTTON('QUICK_REPLY')] };

/** A new card laid out as `last` (Meta wants every card's buttons alike), its texts empty. */
export function nextCard(last: CardForm | undefined): CardForm {
  if (!last) return EMPTY_CARD;
  return { ...EMPTY_CARD, buttons: last.buttons.map((b) => ({ ...EMPTY_BUTTON(b.type), text: b.text })) };
}

export const EMPTY_FORM: TemplateForm = {
  kind: 'STANDARD',
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
  cardHeaderFormat: 'IMAGE',
  cards: [EMPTY_CARD, EMPTY_CARD],
  authentication: { securityRecommendation: true, expires: true, expiryMinutes: '10', buttonText: 'Copy code' },
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
  cards: 10,
  cardBody: 160,
  cardButtons: 2,
  copyCode: 15,
  codeExpirationMinutes: { min: 1, max: 90 },
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

/**
 * A body's problems: `key` for the text (`body`, `card0.body`), `${key}Example${i}` for
 * its samples (`bodyExample0`, `card0.bodyExample0`).
 */
function checkBody(e: Errors, key: string, body: string, examples: string[], max: number): void {
  const p = placeholders(body);
  if (!body.trim()) e[key] = 'The body is required.';
  else if (chars(body) > max) e[key] = `At most ${max} characters (now ${chars(body)}).`;
  else if (p.error) e[key] = p.error;
  else {
    const trimmedStart = body.length - body.trimStart().length;
    const trimmedEnd = body.trimEnd().length;
    const first = p.positions[0];
    const last = p.positions[p.positions.length - 1];
    if ((first && first.start === trimmedStart) || (last && last.end === trimmedEnd)) {
      e[key] = 'The body must not start or end with a variable; put words around it.';
    } else if (p.positions.some((pos, i) => i > 0 && body.slice(p.positions[i - 1]?.end, pos.start).trim() === '')) {
      e[key] = 'Two variables side by side; put words between them.';
    } else {
      for (let i = 0; i < p.count; i++) {
        if (!examples[i]?.trim()) e[`${key}Example${i}`] = `Give a sample value for {{${i + 1}}}.`;
      }
    }
  }
}

function checkLabel(e: Errors, key: string, text: string): void {
  if (!text.trim()) e[key] = 'The label is required.';
  else if (chars(text.trim()) > LIMITS.buttonLabel) e[key] = `At most ${LIMITS.buttonLabel} characters.`;
}

/** A button list's problems: `${prefix}buttons` for the set, `${prefix}button${i}.…` for each. */
function checkButtons(e: Errors, prefix: string, buttons: ButtonForm[], max: number): void {
  const setKey = `${prefix}buttons`;
  if (buttons.length > max) e[setKey] = `At most ${max} buttons.`;
  const count = (t: ButtonType) => buttons.filter((b) => b.type === t).length;
  if (count('URL') > LIMITS.urlButtons) e[setKey] = `At most ${LIMITS.urlButtons} URL buttons.`;
  if (count('PHONE_NUMBER') > LIMITS.phoneButtons) e[setKey] = 'At most one phone number button.';
  if (count('COPY_CODE') > 1) e[setKey] = 'At most one copy-code button.';
  const finished: ButtonType[] = [];
  buttons.forEach((b, i) => {
    const key = `${prefix}button${i}`;
    const prev = buttons[i - 1];
    if (prev && prev.type !== b.type) {
      finished.push(prev.type);
      if (finished.includes(b.type)) e[setKey] = 'Buttons of the same type must be next to each other.';
    }
    // A copy-code button's label is WhatsApp's ("Copy offer code"); its sample code is checked instead.
    if (b.type === 'COPY_CODE') {
      const code = b.example.trim();
      if (!code) e[`${key}.example`] = 'Give a sample offer code.';
      else if (chars(code) > LIMITS.copyCode) e[`${key}.example`] = `At most ${LIMITS.copyCode} characters.`;
      return;
    }
    checkLabel(e, `${key}.text`, b.text);
    if (b.type === 'URL') {
      const u = b.url.trim();
      const vars = placeholders(u);
      if (!isWebUrl(u.replace('{{1}}', 'x')) || chars(u) > LIMITS.url) e[`${key}.url`] = 'An http(s) URL.';
      else if (vars.count > 1 || (vars.positions[0] && vars.positions[0].end !== u.length)) {
        e[`${key}.url`] = 'The URL may have one variable {{1}}, at its very end.';
      } else if (vars.count === 1 && !b.example.trim()) e[`${key}.example`] = 'Give a sample value for {{1}}.';
    }
    if (b.type === 'PHONE_NUMBER') {
      const digits = b.phoneNumber.trim().replace(/^\+/, '');
      if (!/^\d{4,19}$/.test(digits)) e[`${key}.phoneNumber`] = 'A phone number: digits, with an optional +.';
    }
  });
}

/** A carousel's cards (crates/core/src/templates/spec.rs `carousel`). */
function checkCards(e: Errors, f: TemplateForm): void {
  if (f.category !== 'MARKETING') e.category = 'A carousel is only allowed in marketing templates.';
  if (f.cards.length === 0 || f.cards.length > LIMITS.cards) e.cards = `A carousel holds 1 to ${LIMITS.cards} cards.`;
  const layout = (c: CardForm) => c.buttons.map((b) => b.type).join(',');
  const first = f.cards[0];
  f.cards.forEach((c, i) => {
    const prefix = `card${i}.`;
    if (!isWebUrl(c.mediaUrl.trim())) e[`${prefix}mediaUrl`] = `A sample ${f.cardHeaderFormat.toLowerCase()} URL (http or https) for the review.`;
    checkBody(e, `${prefix}body`, c.body, c.bodyExamples, LIMITS.cardBody);
    if (c.buttons.length === 0) e[`${prefix}buttons`] = 'A card needs one or two buttons.';
    else checkButtons(e, prefix, c.buttons, LIMITS.cardButtons);
    if (first && i > 0 && layout(c) !== layout(first) && !e[`${prefix}buttons`]) {
      e[`${prefix}buttons`] = 'Every card needs the same buttons as card 1, of the same types in the same order.';
    }
  });
}

/** An authentication template's options (crates/core/src/templates/spec.rs, AUTHENTICATION). */
function checkAuthentication(e: Errors, a: AuthenticationForm): void {
  const { min, max } = LIMITS.codeExpirationMinutes;
  const minutes = Number(a.expiryMinutes);
  if (a.expires && (!/^\d+$/.test(a.expiryMinutes.trim()) || minutes < min || minutes > max)) {
    e.expiryMinutes = `A whole number of minutes, ${min} to ${max}.`;
  }
  checkLabel(e, 'otpButtonText', a.buttonText);
}

export function validate(f: TemplateForm): Errors {
  const e: Errors = {};
  const name = f.name.trim();
  if (!name) e.name = 'A name is required.';
  else if (chars(name) > LIMITS.name) e.name = `At most ${LIMITS.name} characters.`;
  else if (!/^[a-z0-9_]+$/.test(name)) e.name = 'Only lowercase letters, digits and underscores.';

  if (!/^[a-zA-Z]{2,3}([_-][a-zA-Z0-9]{2,4})?$/.test(f.language.trim())) e.language = 'A language code such as en or en_US.';

  if (f.category === 'AUTHENTICATION') {
    checkAuthentication(e, f.authentication);
    return e;
  }

  checkBody(e, 'body', f.body, f.bodyExamples, LIMITS.body);
  // A carousel has a body and its cards: headers, footers and buttons go on the cards.
  if (f.kind === 'CAROUSEL') {
    checkCards(e, f);
    return e;
  }

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

  if (f.footer) {
    if (chars(f.footer) > LIMITS.footer) e.footer = `At most ${LIMITS.footer} characters (now ${chars(f.footer)}).`;
    else if (f.footer.includes('{{')) e.footer = 'The footer cannot have variables.';
  }

  checkButtons(e, '', f.buttons, LIMITS.buttons);
  if (f.category !== 'MARKETING' && f.buttons.some((b) => b.type === 'COPY_CODE')) {
    e.buttons = 'A copy-code button is only allowed in marketing templates.';
  }
  return e;
}

function bodyComponent(text: string, examples: string[]): TemplateComponent {
  const count = placeholders(text).count;
  const body: TemplateComponent = { type: 'BODY', text };
  if (count > 0) body.examples = examples.slice(0, count);
  return body;
}

function buttonsComponent(buttons: ButtonForm[]): TemplateComponent {
  return {
    type: 'BUTTONS',
    buttons: buttons.map((b) => {
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
      if (b.type === 'COPY_CODE') return { type: 'COPY_CODE', example: [b.example.trim()] };
      return { type: 'QUICK_REPLY', text: b.text.trim() };
    }),
  };
}

/**
 * An authentication template's components, as 8x8 documents them: the body's and footer's
 * texts are WhatsApp's, the button copies the code (`otp_type` COPY_CODE).
 */
function authenticationComponents(a: AuthenticationForm): TemplateComponent[] {
  const out: TemplateComponent[] = [{ type: 'BODY', add_security_recommendation: a.securityRecommendation }];
  const minutes = Number(a.expiryMinutes);
  if (a.expires && Number.isInteger(minutes)) out.push({ type: 'FOOTER', code_expiration_minutes: minutes });
  out.push({ type: 'BUTTONS', buttons: [{ type: 'OTP', otp_type: 'COPY_CODE', text: a.buttonText.trim() }] });
  return out;
}

/** The components in 8x8's creation shape. */
export function components(f: TemplateForm): TemplateComponent[] {
  if (f.category === 'AUTHENTICATION') return authenticationComponents(f.authentication);
  if (f.kind === 'CAROUSEL') {
    return [
      bodyComponent(f.body, f.bodyExamples),
      {
        type: 'CAROUSEL',
        cards: f.cards.map((c) => ({
          components: [
            { type: 'HEADER', format: f.cardHeaderFormat, examples: [c.mediaUrl.trim()] },
            bodyComponent(c.body, c.bodyExamples),
            buttonsComponent(c.buttons),
          ],
        })),
      },
    ];
  }
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
  out.push(bodyComponent(f.body, f.bodyExamples));
  if (f.footer.trim()) out.push({ type: 'FOOTER', text: f.footer });
  if (f.buttons.length) out.push(buttonsComponent(f.buttons));
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
