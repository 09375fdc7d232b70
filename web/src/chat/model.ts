// One model of "what a chat bubble shows", built from the three places a message comes
// from: the simulated phone's chat (Meta's wire objects), 8x8 template definitions (the
// template form's live preview and the template list), and 8x8 message content (the
// log's detail page). The one <Bubble> component renders it, so all three look alike.

import type { PhoneMessage, TemplateButtonDef, TemplateComponent } from '../api/types';

export type MediaKind = 'image' | 'video' | 'audio' | 'document' | 'sticker';

export interface MediaPart {
  kind: MediaKind;
  url?: string;
  caption?: string;
  filename?: string;
  mime?: string;
}

export interface LocationPart {
  latitude: number;
  longitude: number;
  name?: string;
  address?: string;
}

export type HeaderModel =
  | { type: 'text'; text: string }
  | { type: 'media'; media: MediaPart }
  | { type: 'location'; location?: LocationPart };

export type ButtonKind =
  | 'quick_reply'
  | 'url'
  | 'phone'
  | 'copy_code'
  | 'otp'
  | 'flow'
  | 'voice_call'
  | 'reply'
  | 'cta_url'
  | 'location_request'
  | 'call_accept'
  | 'call_reject'
  | 'other';

export interface ButtonModel {
  kind: ButtonKind;
  label: string;
  /** Position among the message's (or its card's) buttons: the `index` a tap sends. */
  index: number;
  /** The carousel card the button is on: the `cardIndex` a tap sends. */
  cardIndex?: number;
  url?: string;
  phone?: string;
  /** What a copy-code button puts on the clipboard: the one-time password or the offer code. */
  code?: string;
  /** Whether a tap on this button does something in the simulator. */
  tappable: boolean;
}

export interface ListRowModel {
  id: string;
  title: string;
  description?: string;
}

export interface ListModel {
  button: string;
  sections: { title?: string; rows: ListRowModel[] }[];
}

export interface CardModel {
  header?: HeaderModel;
  body: string;
  buttons: ButtonModel[];
}

export interface RichModel {
  header?: HeaderModel;
  body?: string;
  footer?: string;
  buttons: ButtonModel[];
  list?: ListModel;
  cards?: CardModel[];
  /** A small line above the body (e.g. "Template · order_update"). */
  label?: string;
}

export type BubbleModel =
  | { type: 'text'; text: string }
  | { type: 'media'; media: MediaPart }
  | { type: 'location'; location: LocationPart }
  | { type: 'rich'; rich: RichModel }
  | { type: 'unsupported'; text: string };

// ---- small readers for untyped JSON ---------------------------------------------------------

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return undefined;
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function location(v: unknown): LocationPart | undefined {
  const o = obj(v);
  if (!o) return undefined;
  const latitude = num(o.latitude);
  const longitude = num(o.longitude);
  if (latitude === undefined || longitude === undefined) return undefined;
  return { latitude, longitude, name: str(o.name), address: str(o.address) };
}

const MEDIA_KINDS: readonly string[] = ['image', 'video', 'audio', 'document', 'sticker'];

export function mediaKind(raw: string): MediaKind | undefined {
  const k = raw.toLowerCase();
  if (k === 'file' || k === 'document') return 'document';
  if (k === 'gif') return 'video';
  return MEDIA_KINDS.includes(k) ? (k as MediaKind) : undefined;
}

// ---- template definitions (8x8 or Meta shape) ------------------------------------------

function componentOf(components: TemplateComponent[], type: string): TemplateComponent | undefined {
  return components.find((c) => c.type.toUpperCase() === type);
}

/** Sample values of a component: `examples`, `example` (list, string or Meta's object). */
export function samplesOf(c: TemplateComponent | undefined): string[] {
  if (!c) return [];
  const raw = c.examples ?? c.example;
  const flat = (items: unknown[]): string[] =>
    items.flatMap((i): unknown[] => (Array.isArray(i) ? (i as unknown[]) : [i])).map((i) => str(i) ?? '');
  if (typeof raw === 'string') return [raw];
  if (Array.isArray(raw)) return flat(raw);
  const o = obj(raw);
  if (o) {
    for (const key of ['header_text', 'body_text', 'header_handle', 'headerText', 'bodyText', 'headerHandle']) {
      const v = o[key];
      if (Array.isArray(v)) return flat(v as unknown[]);
    }
  }
  return [];
}

/** Fills `{{n}}` with `values[n-1]`; a missing value stays `{{n}}`. */
export function fill(text: string, values: readonly string[]): string {
  return text.replace(/\{\{\s*(\d+)\s*\}\}/g, (whole, n: string) => {
    const v = values[Number(n) - 1];
    return v === undefined || v === '' ? whole : v;
  });
}

function templateButton(b: TemplateButtonDef, index: number, tappable: boolean, suffix?: string): ButtonModel {
  const type = b.type.toUpperCase().replace(/[\s-]/g, '_');
  const label = b.text ?? '';
  switch (type) {
    case 'QUICK_REPLY':
    case 'QUICKREPLY':
      return { kind: 'quick_reply', label, index, tappable };
    case 'URL': {
      const example = Array.isArray(b.example) ? b.example[0] : b.example;
      const url = b.url ? fill(b.url, [suffix ?? example ?? '']) : undefined;
      return { kind: 'url', label, index, url, tappable: false };
    }
    case 'PHONE_NUMBER':
    case 'PHONENUMBER':
      return { kind: 'phone', label, index, phone: b.phoneNumber ?? b.phone_number, tappable: false };
    case 'COPY_CODE':
      return { kind: 'copy_code', label: label || 'Copy offer code', index, tappable: false };
    case 'OTP':
      return { kind: 'otp', label: label || 'Copy code', index, tappable: false };
    case 'FLOW':
      return { kind: 'flow', label, index, tappable: false };
    case 'VOICE_CALL':
      return { kind: 'voice_call', label: label || 'Call Now', index, tappable: false };
    default:
      return { kind: 'other', label: label || type.toLowerCase(), index, tappable: false };
  }
}

function templateHeader(c: TemplateComponent | undefined, values: string[]): HeaderModel | undefined {
  if (!c) return undefined;
  const format = (c.format ?? (c.text !== undefined ? 'TEXT' : '')).toUpperCase();
  if (format === 'TEXT') return { type: 'text', text: fill(c.text ?? '', values) };
  if (format === 'LOCATION') return { type: 'location' };
  const kind = mediaKind(format);
  if (!kind) return undefined;
  const sample = samplesOf(c)[0];
  return { type: 'media', media: { kind, url: values[0] ?? sample } };
}

/** The code an authentication template's preview shows in place of the real one. */
const SAMPLE_CODE = '123456';

/**
 * The body WhatsApp writes for an authentication template (the business writes none), as
 * the simulator draws it: crates/simulator/src/templates.rs `body_text`.
 */
function authenticationBodyText(securityRecommendation: boolean): string {
  const text = '{{1}} is your verification code.';
  return securityRecommendation ? `${text} For your security, do not share this code.` : text;
}

/**
 * Whether `body` is an authentication template's: it has the security option, or no text
 * of its own (only an authentication body may leave its text to WhatsApp).
 */
function isAuthenticationBody(body: TemplateComponent): boolean {
  return body.add_security_recommendation !== undefined || body.text === undefined;
}

export interface TemplateValues {
  header?: string[];
  body?: string[];
}

/**
 * A template definition as the phone would show it, placeholders filled with `values`
 * (or the definition's own samples: the form's preview shows what a reviewer sees).
 */
export function templateToRich(components: TemplateComponent[], values: TemplateValues = {}): RichModel {
  const header = componentOf(components, 'HEADER');
  const body = componentOf(components, 'BODY');
  const footer = componentOf(components, 'FOOTER');
  const buttons = componentOf(components, 'BUTTONS');
  const carousel = componentOf(components, 'CAROUSEL');
  const headerValues = values.header ?? samplesOf(header);
  const authentication = body !== undefined && isAuthenticationBody(body);
  const bodySamples = samplesOf(body);
  const bodyValues = values.body ?? (authentication && bodySamples.length === 0 ? [SAMPLE_CODE] : bodySamples);
  const bodyText = body?.text ?? (authentication ? authenticationBodyText(body.add_security_recommendation === true) : undefined);
  let footerText = footer?.text;
  if (footer?.code_expiration_minutes !== undefined) {
    footerText = `This code expires in ${footer.code_expiration_minutes} minutes.`;
  }
  const rich: RichModel = {
    header: templateHeader(header, headerValues),
    body: bodyText !== undefined ? fill(bodyText, bodyValues) : undefined,
    footer: footerText,
    buttons: (buttons?.buttons ?? []).map((b, i) => templateButton(b, i, false)),
  };
  if (carousel?.cards) {
    rich.cards = carousel.cards.map((card) => cardToModel(card.components));
  }
  return rich;
}

/**
 * A carousel card from its definition, filled with the card's send parameters when there
 * are any. `cardIndex`: the card's position when its quick replies can be tapped (the phone).
 */
function cardToModel(components: TemplateComponent[], params?: Obj, cardIndex?: number): CardModel {
  const header = componentOf(components, 'HEADER');
  const body = componentOf(components, 'BODY');
  const buttons = componentOf(components, 'BUTTONS');
  const paramHeader = obj(params?.header);
  const paramBody = arr(params?.body).map((v) => str(v) ?? '');
  const paramButtons = arr(params?.buttons).map(obj);
  let headerModel = templateHeader(header, []);
  const headerUrl = str(paramHeader?.url) ?? str(paramHeader?.link);
  if (headerModel?.type === 'media' && headerUrl) {
    headerModel = { type: 'media', media: { ...headerModel.media, url: headerUrl } };
  }
  return {
    header: headerModel,
    body: fill(body?.text ?? '', paramBody.length ? paramBody : samplesOf(body)),
    buttons: (buttons?.buttons ?? []).map((b, i) => {
      const p = paramButtons.find((pb) => num(pb?.index) === i);
      const value = obj(p?.value);
      const button = templateButton(b, i, false, str(value?.text));
      if (cardIndex === undefined || button.kind !== 'quick_reply') return button;
      return { ...button, cardIndex, tappable: true };
    }),
  };
}

// ---- the simulator's phone bubbles ------------------------------------------------------

function buttonKindOf(type: string): ButtonKind {
  switch (type.toUpperCase()) {
    case 'QUICK_REPLY':
      return 'quick_reply';
    case 'URL':
      return 'url';
    case 'PHONE_NUMBER':
      return 'phone';
    case 'COPY_CODE':
      return 'copy_code';
    case 'OTP':
      return 'otp';
    case 'FLOW':
      return 'flow';
    case 'VOICE_CALL':
      return 'voice_call';
    default:
      return 'other';
  }
}

/** The header of a simulator template bubble: `{type:'text',text}`, `{type:'image',url}`… */
function simHeader(v: unknown, mediaUrl: string | undefined): HeaderModel | undefined {
  const h = obj(v);
  if (!h) return undefined;
  const type = str(h.type) ?? '';
  if (type === 'text') return { type: 'text', text: str(h.text) ?? '' };
  if (type === 'location') return { type: 'location', location: location(h.location) };
  const kind = mediaKind(type);
  if (!kind) return undefined;
  return { type: 'media', media: { kind, url: mediaUrl ?? str(h.url) } };
}

/**
 * A button of a phone's template bubble (`{index, type, text, parameter}`); `definitions`
 * are the registered template's buttons, for what the bubble leaves out (a URL button's
 * target, a call button's number).
 */
function simButton(raw: unknown, position: number, definitions: TemplateButtonDef[] | undefined, cardIndex?: number): ButtonModel {
  const b = obj(raw) ?? {};
  const kind = buttonKindOf(str(b.type) ?? '');
  const index = num(b.index) ?? position;
  const model: ButtonModel = { kind, label: str(b.text) ?? '', index, tappable: kind === 'quick_reply' };
  if (cardIndex !== undefined) model.cardIndex = cardIndex;
  const def = definitions?.[index];
  if (kind === 'url') {
    const param = obj(b.parameter);
    const target = str(b.url) ?? def?.url;
    if (target) model.url = fill(target, [str(param?.text) ?? '']);
  }
  if (kind === 'phone') model.phone = str(b.phone_number) ?? def?.phoneNumber ?? def?.phone_number;
  if (kind === 'otp' || kind === 'copy_code') {
    // The send's parameter: an OTP's `{type: 'text', text}`, an offer's `{type: 'coupon_code', coupon_code}`.
    const param = obj(b.parameter);
    const code = str(param?.coupon_code) ?? str(param?.text);
    if (code) {
      model.code = code;
      model.tappable = true;
    }
  }
  return model;
}

/**
 * A carousel card of a phone's bubble as the simulator drew it (`rendered`: header, body,
 * buttons); `definition` is the card's registered components.
 */
function simCard(params: Obj, position: number, definition: TemplateComponent[] | undefined): CardModel {
  const rendered = obj(params.rendered) ?? {};
  const cardIndex = num(params.card_index) ?? position;
  const definitions = definition ? componentOf(definition, 'BUTTONS')?.buttons : undefined;
  return {
    header: simHeader(rendered.header, undefined),
    body: str(rendered.body) ?? '',
    buttons: arr(rendered.buttons).map((b, i) => simButton(b, i, definitions, cardIndex)),
  };
}

/**
 * A template bubble of the phone (crates/simulator/src/templates.rs `bubble`). `definition`
 * is the registered template: URL buttons' targets come from it, and carousel cards too
 * when the bubble does not carry them drawn (`rendered`).
 */
export function simTemplateToRich(
  message: unknown,
  mediaUrl: string | undefined,
  definition?: TemplateComponent[],
): RichModel {
  const m = obj(message) ?? {};
  const definitions = definition ? componentOf(definition, 'BUTTONS')?.buttons : undefined;
  const rich: RichModel = {
    header: simHeader(m.header, mediaUrl),
    body: str(m.body),
    footer: str(m.footer) ?? undefined,
    buttons: arr(m.buttons).map((b, i) => simButton(b, i, definitions)),
  };
  const cardParams = arr(m.cards).map((c) => obj(c) ?? {});
  const defCards = definition ? componentOf(definition, 'CAROUSEL')?.cards : undefined;
  const cardDefinition = (p: Obj, i: number) => defCards?.[num(p.card_index) ?? i]?.components;
  if (cardParams.length && cardParams.every((p) => obj(p.rendered))) {
    rich.cards = cardParams.map((p, i) => simCard(p, i, cardDefinition(p, i)));
  } else if (defCards) {
    // An older bubble holds only the cards' parameters: draw the cards from the definition.
    rich.cards = defCards.map((card, i) =>
      cardToModel(card.components, cardParams.find((p) => num(p.card_index) === i), i),
    );
  } else if (cardParams.length) {
    rich.cards = cardParams.map((p) => ({
      header: simHeader(p.header, undefined),
      body: arr(p.body).map((v) => str(v) ?? '').join(' · '),
      buttons: [],
    }));
  }
  return rich;
}

/** Meta's (and 8x8's, the same shape) `interactive` object. */
export function interactiveToRich(message: unknown): RichModel {
  const m = obj(message) ?? {};
  const type = str(m.type) ?? '';
  const header = obj(m.header);
  let headerModel: HeaderModel | undefined;
  if (header) {
    const htype = str(header.type) ?? '';
    if (htype === 'text') headerModel = { type: 'text', text: str(header.text) ?? '' };
    const kind = mediaKind(htype);
    if (kind) {
      const media = obj(header[htype]);
      headerModel = {
        type: 'media',
        media: { kind, url: str(media?.link) ?? str(media?.url), filename: str(media?.filename) },
      };
    }
  }
  const action = obj(m.action) ?? {};
  const parameters = obj(action.parameters) ?? {};
  const rich: RichModel = {
    header: headerModel,
    body: str(obj(m.body)?.text),
    footer: str(obj(m.footer)?.text),
    buttons: [],
  };
  switch (type) {
    case 'button':
      rich.buttons = arr(action.buttons).map((raw, index) => {
        const reply = obj(obj(raw)?.reply);
        return { kind: 'reply', label: str(reply?.title) ?? '', index, tappable: true };
      });
      break;
    case 'list':
      rich.list = {
        button: str(action.button) ?? 'Options',
        sections: arr(action.sections).map((raw) => {
          const s = obj(raw) ?? {};
          return {
            title: str(s.title),
            rows: arr(s.rows).map((r) => {
              const row = obj(r) ?? {};
              return { id: str(row.id) ?? '', title: str(row.title) ?? '', description: str(row.description) };
            }),
          };
        }),
      };
      break;
    case 'cta_url':
      rich.buttons = [
        {
          kind: 'cta_url',
          label: str(parameters.display_text) ?? 'Open',
          url: str(parameters.url),
          index: 0,
          tappable: true,
        },
      ];
      break;
    case 'location_request_message':
      rich.buttons = [{ kind: 'location_request', label: 'Send location', index: 0, tappable: true }];
      break;
    case 'call_permission_request':
      rich.body = rich.body ?? 'The business would like to call you on WhatsApp.';
      rich.buttons = [
        { kind: 'call_accept', label: 'Allow calls', index: 0, tappable: true },
        { kind: 'call_reject', label: "Don't allow", index: 1, tappable: true },
      ];
      break;
    case 'flow':
      rich.buttons = [
        { kind: 'flow', label: str(parameters.flow_cta) ?? 'Open', index: 0, tappable: true },
      ];
      break;
    case 'voice_call':
      rich.buttons = [
        { kind: 'voice_call', label: str(parameters.display_text) ?? 'Call Now', index: 0, tappable: false },
      ];
      break;
    case 'product':
    case 'product_list':
      rich.label = type === 'product' ? 'Product' : 'Product list';
      rich.buttons = [{ kind: 'other', label: 'View items', index: 0, tappable: false }];
      break;
    case 'request_contact_info':
      rich.buttons = [{ kind: 'other', label: 'Share contact info', index: 0, tappable: false }];
      break;
    default:
      break;
  }
  return rich;
}

/** What the user's own answer shows (a reply button, a list row, a completed Flow…). */
function userInteractive(message: unknown): BubbleModel {
  const m = obj(message) ?? {};
  const reply = obj(m.button_reply) ?? obj(m.list_reply);
  if (reply) {
    const description = str(reply.description);
    return { type: 'text', text: description ? `${str(reply.title) ?? ''}\n${description}` : str(reply.title) ?? '' };
  }
  const nfm = obj(m.nfm_reply);
  if (nfm) return { type: 'text', text: `✅ ${str(nfm.body) ?? 'Sent'}` };
  const call = obj(m.call_permission_reply);
  if (call) {
    return { type: 'text', text: str(call.response) === 'accept' ? 'Allowed calls' : "Didn't allow calls" };
  }
  return { type: 'unsupported', text: 'Interactive answer' };
}

export interface PhoneContext {
  /** Registered template definitions by `name|language`, for carousel cards and URLs. */
  templates?: Map<string, TemplateComponent[]>;
}

export function templateKey(name: string, language: string): string {
  return `${name}|${language}`;
}

export function phoneBubble(m: PhoneMessage, ctx: PhoneContext = {}): BubbleModel {
  const message = obj(m.message) ?? {};
  const kind = mediaKind(m.type);
  if (kind) {
    return {
      type: 'media',
      media: {
        kind,
        url: m.mediaUrl ?? str(message.link),
        caption: str(message.caption),
        filename: str(message.filename),
        mime: str(message.mime_type),
      },
    };
  }
  switch (m.type) {
    case 'text':
      return { type: 'text', text: str(message.body) ?? str(message.text) ?? '' };
    case 'button':
      return { type: 'text', text: str(message.text) ?? '' };
    case 'location': {
      const loc = location(message);
      return loc ? { type: 'location', location: loc } : { type: 'unsupported', text: 'Location' };
    }
    case 'template': {
      const name = str(message.name) ?? '';
      const language = str(message.language) ?? '';
      const definition = ctx.templates?.get(templateKey(name, language));
      return { type: 'rich', rich: simTemplateToRich(message, m.mediaUrl, definition) };
    }
    case 'interactive':
      return m.direction === 'from_user'
        ? userInteractive(message)
        : { type: 'rich', rich: interactiveToRich(message) };
    case 'unsupported':
      return { type: 'unsupported', text: 'This message is not supported on WhatsApp' };
    default:
      return { type: 'unsupported', text: `${m.type} message` };
  }
}

/** One line for a quoted message or a chat list preview. */
export function snippet(b: BubbleModel): string {
  switch (b.type) {
    case 'text':
      return b.text;
    case 'media':
      return b.media.caption ?? `${b.media.kind === 'document' ? '📄' : '📎'} ${b.media.filename ?? b.media.kind}`;
    case 'location':
      return `📍 ${b.location.name ?? 'Location'}`;
    case 'rich':
      return b.rich.body ?? (b.rich.header?.type === 'text' ? b.rich.header.text : 'Message');
    case 'unsupported':
      return b.text;
  }
}

// ---- 8x8 message content (the log) ------------------------------------------------------

/** A template header from 8x8 send parameters (`[{type: 'header', parameters: [{type: 'image', url}]}]`). */
function paramHeader(components: Obj[]): HeaderModel | undefined {
  const param = obj(arr(components.find((c) => str(c.type)?.toLowerCase() === 'header')?.parameters)[0]);
  const type = str(param?.type)?.toLowerCase();
  if (!type) return undefined;
  if (type === 'location') return { type: 'location', location: location(param?.location) };
  const kind = mediaKind(type);
  return kind ? { type: 'media', media: { kind, url: str(param?.url) ?? str(param?.link) } } : undefined;
}

/** A button of a logged template: its label, or the simulator's `{type, text}`. */
function loggedButton(raw: unknown, index: number): ButtonModel {
  const b = obj(raw);
  if (!b) return { kind: 'other', label: str(raw) ?? '', index, tappable: false };
  return { kind: buttonKindOf(str(b.type) ?? ''), label: str(b.text) ?? '', index, tappable: false };
}

/**
 * A logged message's content: the structured 8x8 content object when the server gives it,
 * otherwise the one-line summary read by its content type.
 */
export function logBubble(contentType: string, summary: string, content?: Obj): BubbleModel {
  const type = contentType.toLowerCase();
  if (content) {
    const rendered = obj(content.rendered);
    const template = obj(content.template);
    if (template || rendered) {
      const components = arr(template?.components).map((c) => obj(c) ?? {});
      const rich: RichModel = {
        label: template ? `Template · ${str(template.name) ?? ''}` : undefined,
        header: paramHeader(components) ?? (str(rendered?.header) ? { type: 'text', text: str(rendered?.header) ?? '' } : undefined),
        body: str(rendered?.body) ?? summary,
        footer: str(rendered?.footer),
        buttons: arr(rendered?.buttons).map(loggedButton),
      };
      // The cards' texts are in `rendered`; their pictures only in the send parameters.
      const carousel = components.find((c) => str(c.type)?.toLowerCase() === 'carousel');
      const cardParams = arr(carousel?.cards).map((c) => obj(c) ?? {});
      const cards = arr(rendered?.cards).map((c) => obj(c) ?? {});
      if (cards.length) {
        rich.cards = cards.map((c, i) => {
          const params = cardParams.find((p) => num(p.cardIndex ?? p.card_index) === i);
          return {
            header: simHeader(c.header, undefined) ?? paramHeader(arr(params?.components).map((x) => obj(x) ?? {})),
            body: str(c.body) ?? '',
            buttons: arr(c.buttons).map(loggedButton),
          };
        });
      }
      return { type: 'rich', rich };
    }
    const interactive = obj(content.interactive);
    if (interactive) {
      const itype = str(interactive.type) ?? '';
      if (itype.endsWith('reply') || itype === 'nfmReply' || itype === 'callPermissionReply') {
        const reply = obj(interactive.button_reply) ?? obj(interactive.list_reply) ?? obj(interactive.buttonReply) ?? obj(interactive.listReply);
        if (reply) return { type: 'text', text: str(reply.title) ?? summary };
        return { type: 'text', text: summary };
      }
      return { type: 'rich', rich: interactiveToRich(interactive) };
    }
    const loc = location(content.location);
    if (loc) return { type: 'location', location: loc };
    const url = str(content.url);
    const kind = mediaKind(type);
    if (url && kind) {
      return { type: 'media', media: { kind, url, caption: str(content.text), filename: str(content.fileName) } };
    }
    const text = str(content.text);
    if (text !== undefined) return { type: 'text', text };
  }
  const kind = mediaKind(type);
  if (kind) {
    const [url, ...caption] = summary.split(' ');
    return { type: 'media', media: { kind, url: url?.startsWith('http') || url?.startsWith('/') ? url : undefined, caption: caption.join(' ') || undefined } };
  }
  if (type === 'location') {
    const m = /^(-?[\d.]+),(-?[\d.]+)\s*(.*)$/.exec(summary);
    if (m) return { type: 'location', location: { latitude: Number(m[1]), longitude: Number(m[2]), name: m[3] || undefined } };
  }
  return { type: 'text', text: summary };
}
