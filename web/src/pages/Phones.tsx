// The simulated phones: every user who has a chat, and one phone that looks and behaves
// like WhatsApp. The person at the console acts as the user: writes, taps buttons, picks
// list rows, shares a location or a file, blocks or reports the business.

import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { simApi, templatesApi, type PhoneSend, type Tap } from '../api/endpoints';
import type { PhoneMessage, PhoneSummary, TemplateComponent } from '../api/types';
import { Bubble, type Ticks } from '../chat/Bubble';
import { phoneBubble, snippet, templateKey, type ButtonModel, type ListModel } from '../chat/model';
import { chatItems } from '../chat/reactions';
import { Menu } from '../components/Menu';
import { Sheet } from '../components/Sheet';
import { Toast, useToast } from '../components/Toast';
import { ErrorBanner, PageHeader } from '../components/ui';
import { useSimEvent } from '../events';
import { copyToClipboard, formatTime, useAction, useLoad, type Loaded } from '../hooks';
import { useCan, useSession } from '../session';

const digits = (msisdn: string) => msisdn.replace(/\D/g, '');

function PhoneList({ current, phones }: { current?: string; phones: Loaded<{ phones: PhoneSummary[] }> }) {
  const navigate = useNavigate();
  const [number, setNumber] = useState('');
  const [text, setText] = useState('');
  const action = useAction();
  const sorted = useMemo(
    () => [...(phones.data?.phones ?? [])].sort((a, b) => (b.lastMessageAt ?? '').localeCompare(a.lastMessageAt ?? '')),
    [phones.data],
  );

  const start = async (e: FormEvent) => {
    e.preventDefault();
    const msisdn = number.trim().startsWith('+') ? number.trim() : `+${number.trim()}`;
    const sent = await action.run(() => simApi.send(msisdn, { type: 'text', content: { text: text.trim() } }));
    if (sent) {
      setNumber('');
      setText('');
      phones.reload();
      void navigate(`/phones/${encodeURIComponent(msisdn)}`);
    }
  };

  return (
    <aside className="phone-list" aria-label="Simulated phones">
      <h2 className="section-title">Chats</h2>
      <ErrorBanner error={phones.error} />
      {sorted.length === 0 && !phones.loading ? (
        <p className="empty">No phone has a chat yet. Start one below, or send a template through the API.</p>
      ) : null}
      <ul className="chat-list">
        {sorted.map((p) => (
          <li key={p.msisdn}>
            <Link
              to={`/phones/${encodeURIComponent(p.msisdn)}`}
              className={current && digits(current) === digits(p.msisdn) ? 'active' : ''}
              aria-current={current && digits(current) === digits(p.msisdn) ? 'page' : undefined}
            >
              <span className="avatar" aria-hidden="true">
                {p.name.slice(0, 1)}
              </span>
              <span className="chat-list-text">
                <span className="chat-list-name">
                  {p.name}
                  {p.blocked ? (
                    <span className="blocked-badge" data-testid="blocked-badge" title={`Blocked ${p.blockedBusinesses.join(', ')}`}>
                      Blocked
                    </span>
                  ) : null}
                </span>
                <span className="chat-list-number">{p.msisdn}</span>
              </span>
              <span className="chat-list-meta">
                <span>{formatTime(p.lastMessageAt)}</span>
                <span className="count" aria-label={`${p.messageCount} messages`}>
                  {p.messageCount}
                </span>
              </span>
            </Link>
          </li>
        ))}
      </ul>
      <form className="new-chat" onSubmit={(e) => void start(e)}>
        <h3>New chat from a phone</h3>
        <ErrorBanner error={action.error} onDismiss={action.clear} />
        <label className="field">
          <span>Phone number</span>
          <input
            value={number}
            onChange={(e) => setNumber(e.target.value)}
            placeholder="+15551234567"
            inputMode="tel"
            required
            pattern="\+?[1-9][0-9]{7,14}"
            title="An international number, such as +15551234567"
          />
        </label>
        <label className="field">
          <span>First message</span>
          <input value={text} onChange={(e) => setText(e.target.value)} placeholder="Hi!" required />
        </label>
        <button type="submit" className="button-primary" disabled={action.busy}>
          Send from phone
        </button>
      </form>
    </aside>
  );
}

function ticksOf(m: PhoneMessage): Ticks {
  if (m.status === 'read') return 'read';
  if (m.status === 'delivered') return 'delivered';
  if (m.status === 'failed') return 'failed';
  return 'sent';
}

function dayLabel(iso: string): string {
  const d = new Date(iso);
  const today = new Date();
  const yesterday = new Date();
  yesterday.setDate(today.getDate() - 1);
  if (d.toDateString() === today.toDateString()) return 'Today';
  if (d.toDateString() === yesterday.toDateString()) return 'Yesterday';
  return d.toLocaleDateString([], { day: 'numeric', month: 'long', year: 'numeric' });
}

function ListSheet({ list, onPick, onClose }: { list: ListModel; onPick: (rowId: string) => void; onClose: () => void }) {
  const [picked, setPicked] = useState<string>();
  return (
    <Sheet title={list.button} onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (picked) onPick(picked);
        }}
      >
        <div className="sheet-body">
          {list.sections.map((s, i) => (
            <fieldset key={i} className="list-section">
              {s.title ? <legend>{s.title}</legend> : <legend className="visually-hidden">Options</legend>}
              {s.rows.map((r) => (
                <label key={r.id} className="list-row">
                  <span className="list-row-text">
                    <span className="list-row-title">{r.title}</span>
                    {r.description ? <span className="list-row-desc">{r.description}</span> : null}
                  </span>
                  <input type="radio" name="row" value={r.id} checked={picked === r.id} onChange={() => setPicked(r.id)} />
                </label>
              ))}
            </fieldset>
          ))}
        </div>
        <div className="sheet-foot">
          <button type="submit" className="button-send-wide" disabled={!picked}>
            Send
          </button>
        </div>
      </form>
    </Sheet>
  );
}

interface LocationValue {
  latitude: number;
  longitude: number;
  name?: string;
  address?: string;
}

function LocationSheet({ onShare, onClose }: { onShare: (l: LocationValue) => void; onClose: () => void }) {
  const [lat, setLat] = useState('1.2834');
  const [lng, setLng] = useState('103.8607');
  const [name, setName] = useState('Marina Bay Sands');
  const [address, setAddress] = useState('10 Bayfront Ave, Singapore');
  const latitude = Number(lat);
  const longitude = Number(lng);
  const valid = lat !== '' && lng !== '' && Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180;
  return (
    <Sheet title="Share location" onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (valid) onShare({ latitude, longitude, name: name || undefined, address: address || undefined });
        }}
      >
        <div className="sheet-body sheet-form">
          <label className="field">
            <span>Latitude</span>
            <input value={lat} onChange={(e) => setLat(e.target.value)} inputMode="decimal" required aria-invalid={!valid} />
          </label>
          <label className="field">
            <span>Longitude</span>
            <input value={lng} onChange={(e) => setLng(e.target.value)} inputMode="decimal" required aria-invalid={!valid} />
          </label>
          <label className="field">
            <span>Place name</span>
            <input value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <label className="field">
            <span>Address</span>
            <input value={address} onChange={(e) => setAddress(e.target.value)} />
          </label>
          {!valid ? <p className="field-error">Latitude must be within ±90 and longitude within ±180.</p> : null}
        </div>
        <div className="sheet-foot">
          <button type="submit" className="button-send-wide" disabled={!valid}>
            Send location
          </button>
        </div>
      </form>
    </Sheet>
  );
}

function FlowSheet({ title, onDone, onClose }: { title: string; onDone: (r: Record<string, unknown>) => void; onClose: () => void }) {
  const [text, setText] = useState('{\n  "answer": "yes"\n}');
  let parsed: Record<string, unknown> | undefined;
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) parsed = v as Record<string, unknown>;
  } catch {
    parsed = undefined;
  }
  return (
    <Sheet title={title} onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (parsed) onDone(parsed);
        }}
      >
        <div className="sheet-body sheet-form">
          <label className="field">
            <span>The Flow's answers (a JSON object)</span>
            <textarea rows={6} value={text} onChange={(e) => setText(e.target.value)} aria-invalid={!parsed} />
          </label>
          {!parsed ? <p className="field-error">Write a JSON object.</p> : null}
        </div>
        <div className="sheet-foot">
          <button type="submit" className="button-send-wide" disabled={!parsed}>
            Complete
          </button>
        </div>
      </form>
    </Sheet>
  );
}

type Dialog =
  | { kind: 'list'; messageId: string; list: ListModel }
  | { kind: 'location'; messageId?: string }
  | { kind: 'flow'; messageId: string; title: string };

function fileKind(file: File): PhoneSend['type'] {
  const t = file.type;
  if (t === 'image/webp') return 'sticker';
  if (t === 'image/jpeg' || t === 'image/png') return 'image';
  if (t.startsWith('video/')) return 'video';
  if (t.startsWith('audio/')) return 'audio';
  return 'file';
}

/**
 * `summary`: the phone in the simulator's list (whether it blocked the business);
 * `onPhonesChanged`: the list must be read again (the user blocked or unblocked).
 */
function PhoneView({ msisdn, summary, onPhonesChanged }: { msisdn: string; summary?: PhoneSummary; onPhonesChanged: () => void }) {
  const session = useSession();
  const can = useCan();
  const load = useCallback((signal: AbortSignal) => simApi.chat(msisdn, signal), [msisdn]);
  const chat = useLoad(load);
  const reloadChat = chat.reload;
  useSimEvent('phone', (data) => {
    const changed = typeof data.msisdn === 'string' ? data.msisdn : undefined;
    if (!changed || digits(changed) === digits(msisdn)) reloadChat();
  });
  const messages = useMemo(() => chat.data?.messages ?? [], [chat.data]);

  // Registered templates, for what the phone's template bubbles leave out (carousel cards'
  // texts, URL buttons' targets). Loaded once per channel seen in the chat.
  const channels = useMemo(() => {
    const numbers = new Set(messages.filter((m) => m.type === 'template').map((m) => m.businessNumber));
    return session.subAccounts.flatMap((s) => s.channels).filter((c) => numbers.has(c.businessNumber));
  }, [messages, session]);
  const channelKey = channels.map((c) => c.id).join(',');
  const [definitions, setDefinitions] = useState(new Map<string, TemplateComponent[]>());
  const templatesVersion = useRef(0);
  const [templatesNonce, setTemplatesNonce] = useState(0);
  useSimEvent('templates', () => setTemplatesNonce((n) => n + 1));
  useEffect(() => {
    if (!channelKey || !can('templates.read')) return;
    const version = ++templatesVersion.current;
    const ids = channelKey.split(',');
    Promise.all(ids.map((id) => templatesApi.list(session.accountId, id))).then(
      (answers) => {
        if (version !== templatesVersion.current) return;
        const map = new Map<string, TemplateComponent[]>();
        for (const a of answers) for (const t of a.templates) map.set(templateKey(t.templateName, t.language), t.components);
        setDefinitions(map);
      },
      () => undefined,
    );
  }, [channelKey, can, session.accountId, templatesNonce]);

  const action = useAction();
  const [text, setText] = useState('');
  const [dialog, setDialog] = useState<Dialog>();
  const [notice, setNotice] = useState<string>();
  const [toast, showToast] = useToast();
  const [attachment, setAttachment] = useState<File>();
  const [caption, setCaption] = useState('');
  const fileInput = useRef<HTMLInputElement>(null);
  const scroller = useRef<HTMLDivElement>(null);

  // Stay at the newest message while the person has not scrolled up, also when pictures
  // load or a notice appears after the chat was drawn.
  const pinned = useRef(true);
  const lastId = messages[messages.length - 1]?.id;
  useEffect(() => {
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
    pinned.current = true;
  }, [lastId, messages.length]);
  useEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const onScroll = () => {
      pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
    };
    const observer = new ResizeObserver(() => {
      if (pinned.current) el.scrollTop = el.scrollHeight;
    });
    el.addEventListener('scroll', onScroll, { passive: true });
    observer.observe(el);
    for (const child of Array.from(el.children)) observer.observe(child);
    return () => {
      el.removeEventListener('scroll', onScroll);
      observer.disconnect();
    };
  }, [messages.length]);

  const business = messages.find((m) => m.direction === 'from_business')?.businessNumber ?? session.subAccounts[0]?.channels[0]?.businessNumber ?? 'Business';
  const typing = messages.some((m) => m.typing);

  const after = async <T,>(p: () => Promise<T>) => {
    const result = await action.run(p);
    reloadChat();
    return result;
  };

  const tap = (t: Tap) => after(() => simApi.tap(msisdn, t));

  const onButton = (m: PhoneMessage) => async (b: ButtonModel) => {
    switch (b.kind) {
      case 'quick_reply':
      case 'reply':
        await tap(b.cardIndex === undefined ? { messageId: m.id, index: b.index } : { messageId: m.id, cardIndex: b.cardIndex, index: b.index });
        return;
      case 'cta_url': {
        const answer = await action.run(() => simApi.tap(msisdn, { messageId: m.id, index: 0 }));
        const opened = answer && 'opened' in answer ? answer.opened : b.url;
        if (opened) window.open(opened, '_blank', 'noopener,noreferrer');
        return;
      }
      case 'url':
        if (b.url) window.open(b.url, '_blank', 'noopener,noreferrer');
        return;
      case 'phone':
        if (b.phone) window.location.href = `tel:${b.phone}`;
        return;
      case 'location_request':
        setDialog({ kind: 'location', messageId: m.id });
        return;
      case 'call_accept':
      case 'call_reject':
        await tap({ messageId: m.id, callPermission: b.kind === 'call_accept' ? 'accept' : 'reject' });
        return;
      case 'flow':
        setDialog({ kind: 'flow', messageId: m.id, title: b.label });
        return;
      case 'otp':
      case 'copy_code':
        // As on WhatsApp: the code goes to the clipboard, nothing goes to the business.
        if (b.code) showToast((await copyToClipboard(b.code)) ? 'Code copied' : 'The browser did not allow copying the code');
        return;
      default:
        return;
    }
  };

  const sendText = async (e: FormEvent) => {
    e.preventDefault();
    const body = text.trim();
    if (!body) return;
    const sent = await after(() => simApi.send(msisdn, { type: 'text', content: { text: body } }));
    if (sent) setText('');
  };

  const sendFile = async (e: FormEvent) => {
    e.preventDefault();
    const file = attachment;
    if (!file) return;
    const sent = await after(async () => {
      const uploaded = await simApi.upload(msisdn, file);
      const type = fileKind(file);
      const content: { mediaId: string; text?: string; fileName?: string } = { mediaId: uploaded.id };
      if (caption.trim() && (type === 'image' || type === 'video' || type === 'file')) content.text = caption.trim();
      if (type === 'file') content.fileName = file.name;
      return simApi.send(msisdn, { type, content } as PhoneSend);
    });
    if (sent) {
      setAttachment(undefined);
      setCaption('');
    }
  };

  const shareLocation = async (l: LocationValue) => {
    const messageId = dialog?.kind === 'location' ? dialog.messageId : undefined;
    setDialog(undefined);
    if (messageId) await tap({ messageId, location: l });
    else await after(() => simApi.send(msisdn, { type: 'location', content: { location: l } }));
  };

  // The business this chat is with (the user may have written and had no answer yet).
  const channel = messages[messages.length - 1]?.phoneNumberId;
  const blocked = channel ? !!summary?.blockedBusinesses.includes(channel) : !!summary?.blocked;

  const feedback = async (what: 'block' | 'unblock' | 'report') => {
    const answer = await action.run(() =>
      what === 'block'
        ? simApi.block(msisdn, channel)
        : what === 'unblock'
          ? simApi.unblock(msisdn, channel)
          : simApi.report(msisdn, channel),
    );
    if (answer !== undefined) {
      onPhonesChanged();
      const quality = (answer as { quality?: unknown }).quality;
      const q = typeof quality === 'string' ? ` Number quality: ${quality}.` : '';
      setNotice(
        what === 'block'
          ? `You blocked ${business}.${q}`
          : what === 'unblock'
            ? `You unblocked ${business}.`
            : `You reported ${business}.${q}`,
      );
    }
  };

  const byId = useMemo(() => new Map(messages.map((m) => [m.id, m])), [messages]);
  const items = useMemo(() => chatItems(messages), [messages]);

  let lastDay = '';
  return (
    <section className="phone-area" aria-label={`Phone ${msisdn}`}>
      <div className="phone">
        <header className="wa-header">
          <Link to="/phones" className="wa-back" aria-label="Back to chats">
            ←
          </Link>
          <span className="avatar avatar-business" aria-hidden="true">
            {business.replace(/\D/g, '').slice(-2)}
          </span>
          <div className="wa-title">
            <div className="wa-name">{business}</div>
            <div className="wa-sub">
              {typing ? 'typing…' : `${blocked ? 'Blocked' : 'Business account'} · you are ${chat.data?.name ?? msisdn}`}
            </div>
          </div>
          <Menu
            label="Chat options"
            icon="⋮"
            className="wa-menu"
            buttonClassName="wa-icon-button"
            listClassName="wa-menu-list"
            actions={[
              blocked
                ? { label: 'Unblock business', onSelect: () => void feedback('unblock') }
                : { label: 'Block business', onSelect: () => void feedback('block') },
              { label: 'Report business', onSelect: () => void feedback('report') },
            ]}
          />
        </header>
        <div className="wa-chat" ref={scroller} role="log" aria-label="Messages" aria-live="polite">
          <div className="wa-encryption">Messages to this business are simulated by Parley. Nothing leaves this machine.</div>
          {chat.error ? <ErrorBanner error={chat.error} /> : null}
          {items.map((item, i) => {
            const m = item.message;
            const day = dayLabel(m.timestamp);
            const showDay = day !== lastDay;
            lastDay = day;
            const dayLine = showDay ? (
              <div className="wa-day">
                <span>{day}</span>
              </div>
            ) : null;
            if (item.kind === 'reaction') {
              const { mark } = item;
              const who = mark.from === 'business' ? 'Business' : 'You';
              return (
                <div key={m.id} className="wa-item" data-testid="reaction-line" data-direction={m.direction}>
                  {dayLine}
                  <div className={`wa-system${item.failed ? ' wa-system-failed' : ''}`}>
                    <span>
                      {!mark.emoji ? (
                        `${who} took back a reaction: not delivered`
                      ) : (
                        <>
                          {who} reacted <span className="emoji">{mark.emoji}</span>
                          {item.failed ? ': not delivered' : ' to a message'}
                        </>
                      )}
                    </span>
                  </div>
                </div>
              );
            }
            const side = m.direction === 'from_business' ? 'in' : 'out';
            const previous = items[i - 1];
            const tail = showDay || previous?.kind !== 'message' || previous.message.direction !== m.direction;
            const quotedMessage = m.contextId ? byId.get(m.contextId) : undefined;
            const quoted = quotedMessage
              ? {
                  author: quotedMessage.direction === 'from_business' ? business : 'You',
                  text: snippet(phoneBubble(quotedMessage, { templates: definitions })),
                }
              : undefined;
            const model = phoneBubble(m, { templates: definitions });
            return (
              <div key={m.id} className="wa-item" data-testid="bubble" data-type={m.type} data-direction={m.direction}>
                {dayLine}
                <Bubble
                  model={model}
                  side={side}
                  tail={tail}
                  time={formatTime(m.timestamp)}
                  ticks={ticksOf(m)}
                  quoted={quoted}
                  reactions={item.reactions}
                  actions={{
                    onButton: (b) => void onButton(m)(b),
                    onOpenList: (list) => setDialog({ kind: 'list', messageId: m.id, list }),
                  }}
                />
              </div>
            );
          })}
          {!chat.loading && messages.length === 0 && !chat.error ? (
            <p className="wa-empty">No messages yet. Write to the business below.</p>
          ) : null}
        </div>
        {blocked ? (
          <div className="wa-notice wa-notice-blocked" data-testid="blocked-notice">
            <span>You blocked this business. Its messages no longer reach you.</span>
            <button type="button" className="link-button" onClick={() => void feedback('unblock')} disabled={action.busy}>
              Unblock
            </button>
          </div>
        ) : null}
        {notice ? (
          <div className="wa-notice" role="status">
            <span>{notice}</span>
            <button type="button" className="link-button" onClick={() => setNotice(undefined)} aria-label="Dismiss">
              ✕
            </button>
          </div>
        ) : null}
        {action.error ? (
          <div className="wa-notice wa-notice-error" role="alert">
            <span>{action.error}</span>
            <button type="button" className="link-button" onClick={action.clear} aria-label="Dismiss error">
              ✕
            </button>
          </div>
        ) : null}
        {attachment ? (
          <form className="wa-attachment" onSubmit={(e) => void sendFile(e)}>
            <span className="wa-attachment-name">📎 {attachment.name}</span>
            <label className="visually-hidden" htmlFor="caption">
              Caption
            </label>
            <input id="caption" className="wa-input" placeholder="Add a caption" value={caption} onChange={(e) => setCaption(e.target.value)} />
            <button type="button" className="wa-icon-button" onClick={() => setAttachment(undefined)} aria-label="Remove attachment">
              ✕
            </button>
            <button type="submit" className="wa-send" aria-label="Send file" disabled={action.busy}>
              <SendIcon />
            </button>
          </form>
        ) : (
          <form className="wa-composer" onSubmit={(e) => void sendText(e)}>
            <button type="button" className="wa-icon-button" aria-label="Attach a file" onClick={() => fileInput.current?.click()}>
              <svg width="22" height="22" viewBox="0 0 24 24" aria-hidden="true">
                <path fill="currentColor" d="M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6z" />
              </svg>
            </button>
            <input
              ref={fileInput}
              type="file"
              className="visually-hidden"
              tabIndex={-1}
              aria-label="File to send"
              onChange={(e) => {
                const f = e.target.files?.[0];
                if (f) setAttachment(f);
                e.target.value = '';
              }}
            />
            <button type="button" className="wa-icon-button" aria-label="Share location" onClick={() => setDialog({ kind: 'location' })}>
              <svg width="22" height="22" viewBox="0 0 24 24" aria-hidden="true">
                <path fill="currentColor" d="M12 2a7 7 0 0 0-7 7c0 5.25 7 13 7 13s7-7.75 7-13a7 7 0 0 0-7-7m0 9.5A2.5 2.5 0 1 1 12 6.5a2.5 2.5 0 0 1 0 5" />
              </svg>
            </button>
            <label className="visually-hidden" htmlFor="wa-message">
              Message
            </label>
            <input
              id="wa-message"
              className="wa-input"
              placeholder="Message"
              autoComplete="off"
              value={text}
              onChange={(e) => setText(e.target.value)}
            />
            <button type="submit" className="wa-send" aria-label="Send" disabled={action.busy || !text.trim()}>
              <SendIcon />
            </button>
          </form>
        )}
        <Toast text={toast} />
        {dialog?.kind === 'list' ? (
          <ListSheet
            list={dialog.list}
            onClose={() => setDialog(undefined)}
            onPick={(rowId) => {
              const messageId = dialog.messageId;
              setDialog(undefined);
              void tap({ messageId, rowId });
            }}
          />
        ) : null}
        {dialog?.kind === 'location' ? <LocationSheet onClose={() => setDialog(undefined)} onShare={(l) => void shareLocation(l)} /> : null}
        {dialog?.kind === 'flow' ? (
          <FlowSheet
            title={dialog.title}
            onClose={() => setDialog(undefined)}
            onDone={(r) => {
              const messageId = dialog.messageId;
              setDialog(undefined);
              void tap({ messageId, flowResponse: r });
            }}
          />
        ) : null}
      </div>
    </section>
  );
}

function SendIcon() {
  return (
    <svg width="22" height="22" viewBox="0 0 24 24" aria-hidden="true">
      <path fill="currentColor" d="M2.01 21 23 12 2.01 3 2 10l15 2-15 2z" />
    </svg>
  );
}

export default function Phones() {
  const params = useParams();
  const msisdn = params.msisdn;
  // The list and the open phone share it: the phone's menu offers block or unblock by it.
  const load = useCallback(() => simApi.phones(), []);
  const phones = useLoad(load);
  useSimEvent('phone', phones.reload);
  const summary = msisdn ? phones.data?.phones.find((p) => digits(p.msisdn) === digits(msisdn)) : undefined;
  return (
    <section className={`page page-phones ${msisdn ? 'has-phone' : ''}`}>
      <PageHeader title="Phones" />
      <div className="phones-layout">
        <PhoneList current={msisdn} phones={phones} />
        {msisdn ? (
          <PhoneView key={msisdn} msisdn={msisdn} summary={summary} onPhonesChanged={phones.reload} />
        ) : (
          <div className="phone-placeholder">
            <p>Pick a chat to see the phone.</p>
          </div>
        )}
      </div>
    </section>
  );
}

