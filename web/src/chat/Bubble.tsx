// The chat bubble: one component for the phone, the template preview and the log's detail
// page, drawn the way WhatsApp draws it.

import type { ReactNode } from 'react';
import { WhatsAppText } from './format';
import type { BubbleModel, ButtonModel, CardModel, HeaderModel, ListModel, LocationPart, MediaPart } from './model';

export type Ticks = 'pending' | 'sent' | 'delivered' | 'read' | 'failed';

export interface BubbleActions {
  /** A button was pressed (quick reply, reply button, call to action…). */
  onButton?: (button: ButtonModel) => void;
  /** The list message's button was pressed: open its sheet. */
  onOpenList?: (list: ListModel) => void;
}

export interface BubbleProps {
  model: BubbleModel;
  /** `in`: the other party's (left, white); `out`: one's own (right, green). */
  side: 'in' | 'out';
  time?: string;
  ticks?: Ticks;
  quoted?: { author: string; text: string };
  actions?: BubbleActions;
  /** Whether the bubble opens a run of messages (draws the tail). */
  tail?: boolean;
  /** Whether buttons can be pressed at all (the preview and the log only show them). */
  interactive?: boolean;
  /** Emojis the parties reacted with, shown on the bubble's lower edge as WhatsApp does. */
  reactions?: readonly { emoji: string; label: string }[];
}

const TICK_LABEL: Record<Ticks, string> = {
  pending: 'Pending',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
  failed: 'Not delivered',
};

export function TickIcon({ ticks }: { ticks: Ticks }) {
  const label = TICK_LABEL[ticks];
  if (ticks === 'pending') {
    return (
      <svg className="ticks" viewBox="0 0 16 15" width="16" height="15" role="img" aria-label={label}>
        <circle cx="8" cy="7.5" r="5.5" fill="none" stroke="currentColor" strokeWidth="1.3" />
        <path d="M8 4.5v3.3l2 1.2" fill="none" stroke="currentColor" strokeWidth="1.3" />
      </svg>
    );
  }
  if (ticks === 'failed') {
    return (
      <svg className="ticks ticks-failed" viewBox="0 0 16 15" width="16" height="15" role="img" aria-label={label}>
        <circle cx="8" cy="7.5" r="6" fill="currentColor" />
        <path d="M8 4v4.2M8 10.3v.6" stroke="#fff" strokeWidth="1.6" strokeLinecap="round" />
      </svg>
    );
  }
  const double = ticks !== 'sent';
  return (
    <svg
      className={`ticks ${ticks === 'read' ? 'ticks-read' : ''}`}
      viewBox="0 0 16 11"
      width="16"
      height="11"
      role="img"
      aria-label={label}
    >
      {double ? (
        <>
          <path d="M11.07.65 4.93 8.27 2.2 5.7l-.9.95 3.72 3.5L12.1 1.5z" fill="currentColor" />
          <path d="m15.07.65-6.14 7.62-.93-.87-.83 1.03 1.85 1.73L16.1 1.5z" fill="currentColor" />
        </>
      ) : (
        <path d="M11.07.65 4.93 8.27 2.2 5.7l-.9.95 3.72 3.5L12.1 1.5z" fill="currentColor" />
      )}
    </svg>
  );
}

function ButtonIcon({ kind }: { kind: ButtonModel['kind'] }) {
  const common = { width: 16, height: 16, viewBox: '0 0 24 24', 'aria-hidden': true, className: 'btn-icon' } as const;
  switch (kind) {
    case 'url':
    case 'cta_url':
      return (
        <svg {...common}>
          <path fill="currentColor" d="M14 3h7v7h-2V6.41l-9.29 9.3-1.42-1.42 9.3-9.29H14zM5 5h6v2H5v12h12v-6h2v6a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V7a2 2 0 0 1 2-2" />
        </svg>
      );
    case 'phone':
    case 'voice_call':
    case 'call_accept':
      return (
        <svg {...common}>
          <path fill="currentColor" d="M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z" />
        </svg>
      );
    case 'copy_code':
    case 'otp':
      return (
        <svg {...common}>
          <path fill="currentColor" d="M16 1H4a2 2 0 0 0-2 2v14h2V3h12zm3 4H8a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h11a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2m0 16H8V7h11z" />
        </svg>
      );
    case 'location_request':
      return (
        <svg {...common}>
          <path fill="currentColor" d="M12 2a7 7 0 0 0-7 7c0 5.25 7 13 7 13s7-7.75 7-13a7 7 0 0 0-7-7m0 9.5A2.5 2.5 0 1 1 12 6.5a2.5 2.5 0 0 1 0 5" />
        </svg>
      );
    case 'quick_reply':
    case 'reply':
      return (
        <svg {...common}>
          <path fill="currentColor" d="M10 9V5l-7 7 7 7v-4.1c5 0 8.5 1.6 11 5.1-1-5-4-10-11-11" />
        </svg>
      );
    default:
      return null;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function MediaView({ media, inCard }: { media: MediaPart; inCard?: boolean }) {
  const { kind, url } = media;
  if (kind === 'image' || kind === 'sticker') {
    if (!url) {
      return (
        <div className="media-missing" role="img" aria-label="Image">
          <svg width="40" height="40" viewBox="0 0 24 24" aria-hidden="true">
            <path fill="currentColor" d="M21 19V5a2 2 0 0 0-2-2H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2M8.5 13.5l2.5 3 3.5-4.5 4.5 6H5z" />
          </svg>
        </div>
      );
    }
    return (
      <img
        className={kind === 'sticker' ? 'media-sticker' : inCard ? 'media-img card-img' : 'media-img'}
        src={url}
        alt={media.caption ?? (kind === 'sticker' ? 'Sticker' : 'Image')}
        loading="lazy"
      />
    );
  }
  if (kind === 'video') {
    if (!url) {
      return (
        <div className="media-missing" role="img" aria-label="Video">
          <svg width="40" height="40" viewBox="0 0 24 24" aria-hidden="true">
            <path fill="currentColor" d="M8 5v14l11-7z" />
          </svg>
        </div>
      );
    }
    return <video className="media-video" src={url} controls preload="metadata" aria-label="Video" />;
  }
  if (kind === 'audio') {
    return url ? (
      <audio className="media-audio" src={url} controls preload="none" aria-label="Voice message" />
    ) : (
      <div className="media-doc">Audio</div>
    );
  }
  const fromUrl = url ? safeDecode(url.split('?')[0]?.split('/').pop() ?? '') : '';
  const name = media.filename ?? (fromUrl || 'Document');
  const ext = (name.includes('.') ? (name.split('.').pop() ?? 'file') : 'file').toUpperCase();
  return (
    <div className="media-doc">
      <span className="doc-icon" aria-hidden="true">
        {ext.slice(0, 4)}
      </span>
      <span className="doc-name">{name}</span>
      {url ? (
        <a className="doc-open" href={url} target="_blank" rel="noopener noreferrer" aria-label={`Open ${name}`}>
          ⤓
        </a>
      ) : null}
    </div>
  );
}

function LocationView({ location }: { location?: LocationPart }) {
  const href = location
    ? `https://www.openstreetmap.org/?mlat=${location.latitude}&mlon=${location.longitude}#map=16/${location.latitude}/${location.longitude}`
    : undefined;
  return (
    <div className="location">
      <div className="map" role="img" aria-label={location ? `Map at ${location.latitude}, ${location.longitude}` : 'Location'}>
        <svg className="pin" width="30" height="30" viewBox="0 0 24 24" aria-hidden="true">
          <path fill="#e53935" d="M12 2a7 7 0 0 0-7 7c0 5.25 7 13 7 13s7-7.75 7-13a7 7 0 0 0-7-7" />
          <circle cx="12" cy="9" r="2.6" fill="#fff" />
        </svg>
      </div>
      {location ? (
        <div className="location-text">
          {location.name ? <div className="location-name">{location.name}</div> : null}
          {location.address ? <div className="location-address">{location.address}</div> : null}
          {!location.name && !location.address ? (
            <div className="location-address">
              {location.latitude.toFixed(5)}, {location.longitude.toFixed(5)}
            </div>
          ) : null}
          {href ? (
            <a className="location-link" href={href} target="_blank" rel="noopener noreferrer">
              Open map
            </a>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

function HeaderView({ header }: { header: HeaderModel }) {
  if (header.type === 'text') {
    return (
      <div className="bubble-header-text">
        <WhatsAppText text={header.text} />
      </div>
    );
  }
  if (header.type === 'location') return <LocationView location={header.location} />;
  return (
    <div className="bubble-media">
      <MediaView media={header.media} />
    </div>
  );
}

function Buttons({
  buttons,
  actions,
  enabled,
}: {
  buttons: ButtonModel[];
  actions?: BubbleActions;
  enabled: boolean;
}) {
  if (!buttons.length) return null;
  return (
    <div className="bubble-buttons">
      {buttons.map((b) => {
        const canPress = enabled && (b.tappable || (b.kind === 'url' && !!b.url) || b.kind === 'phone');
        return (
          <button
            key={`${b.kind}-${b.index}`}
            type="button"
            className="bubble-btn"
            disabled={!canPress}
            onClick={() => actions?.onButton?.(b)}
            title={b.url ?? b.phone ?? undefined}
          >
            <ButtonIcon kind={b.kind} />
            <span>{b.label}</span>
          </button>
        );
      })}
    </div>
  );
}

function Card({ card, actions, enabled, n, total }: { card: CardModel; actions?: BubbleActions; enabled: boolean; n: number; total: number }) {
  return (
    <li className="card" aria-label={`Card ${n} of ${total}`}>
      {card.header?.type === 'media' ? (
        <div className="card-media">
          <MediaView media={card.header.media} inCard />
        </div>
      ) : card.header ? (
        <HeaderView header={card.header} />
      ) : null}
      <div className="card-body">
        <WhatsAppText text={card.body} />
      </div>
      <Buttons buttons={card.buttons} actions={actions} enabled={enabled} />
    </li>
  );
}

function Meta({ time, ticks }: { time?: string; ticks?: Ticks }) {
  if (!time && !ticks) return null;
  return (
    <span className="bubble-meta">
      {time ? <time>{time}</time> : null}
      {ticks ? <TickIcon ticks={ticks} /> : null}
    </span>
  );
}

function Reactions({ reactions }: { reactions: readonly { emoji: string; label: string }[] }) {
  if (!reactions.length) return null;
  return (
    <div className="bubble-reactions" data-testid="reactions">
      {reactions.map((r) => (
        <span key={r.label} role="img" aria-label={r.label} title={r.label}>
          {r.emoji}
        </span>
      ))}
    </div>
  );
}

export function Bubble({ model, side, time, ticks, quoted, actions, tail = true, interactive = true, reactions }: BubbleProps) {
  const cls = `bubble bubble-${side}${tail ? ' bubble-tail' : ''}`;
  const quote = quoted ? (
    <div className="bubble-quote">
      <div className="quote-author">{quoted.author}</div>
      <div className="quote-text">{quoted.text}</div>
    </div>
  ) : null;
  let inner: ReactNode;
  let after: ReactNode = null;
  let extraClass = '';
  switch (model.type) {
    case 'text':
      inner = (
        <div className="bubble-text">
          <WhatsAppText text={model.text} />
          <Meta time={time} ticks={ticks} />
        </div>
      );
      break;
    case 'media':
      if (model.media.kind === 'sticker') extraClass = ' bubble-sticker';
      inner = (
        <>
          <div className="bubble-media">
            <MediaView media={model.media} />
          </div>
          <div className="bubble-text">
            {model.media.caption ? <WhatsAppText text={model.media.caption} /> : null}
            <Meta time={time} ticks={ticks} />
          </div>
        </>
      );
      break;
    case 'location':
      inner = (
        <>
          <LocationView location={model.location} />
          <div className="bubble-text">
            <Meta time={time} ticks={ticks} />
          </div>
        </>
      );
      break;
    case 'unsupported':
      inner = (
        <div className="bubble-text bubble-unsupported">
          <em>{model.text}</em>
          <Meta time={time} ticks={ticks} />
        </div>
      );
      break;
    case 'rich': {
      const r = model.rich;
      inner = (
        <>
          {r.label ? <div className="bubble-label">{r.label}</div> : null}
          {r.header ? <HeaderView header={r.header} /> : null}
          <div className="bubble-text">
            {r.body ? <WhatsAppText text={r.body} /> : null}
            {r.footer ? (
              <div className="bubble-footer">
                <WhatsAppText text={r.footer} />
              </div>
            ) : null}
            <Meta time={time} ticks={ticks} />
          </div>
          {r.list ? (
            <div className="bubble-buttons">
              <button
                type="button"
                className="bubble-btn"
                disabled={!interactive}
                onClick={() => r.list && actions?.onOpenList?.(r.list)}
                aria-haspopup="dialog"
              >
                <svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true" className="btn-icon">
                  <path fill="currentColor" d="M3 5h2v2H3zm4 0h14v2H7zm-4 6h2v2H3zm4 0h14v2H7zm-4 6h2v2H3zm4 0h14v2H7z" />
                </svg>
                <span>{r.list.button}</span>
              </button>
            </div>
          ) : null}
          <Buttons buttons={r.buttons} actions={actions} enabled={interactive} />
        </>
      );
      if (r.cards?.length) {
        const cards = r.cards;
        after = (
          <ul className={`carousel carousel-${side}`} aria-label="Carousel">
            {cards.map((card, i) => (
              <Card key={i} card={card} actions={actions} enabled={interactive} n={i + 1} total={cards.length} />
            ))}
          </ul>
        );
      }
      break;
    }
  }
  return (
    <div className={`bubble-row bubble-row-${side}`}>
      <div className={cls + extraClass + (reactions?.length ? ' bubble-reacted' : '')}>
        {quote}
        {inner}
        {reactions ? <Reactions reactions={reactions} /> : null}
      </div>
      {after}
    </div>
  );
}
