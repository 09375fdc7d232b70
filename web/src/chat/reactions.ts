// Reactions in a phone's chat. The simulator keeps each reaction as an entry of the chat
// (`type: 'reaction'`, `message: {message_id, emoji}`); WhatsApp shows none of them as a
// bubble of its own but the emoji on the message it reacts to: each party's latest reaction
// to a message replaces its earlier one, and an empty emoji takes it back.

import type { PhoneMessage } from '../api/types';

export type ReactionAuthor = 'business' | 'user';

/** An emoji shown on a bubble. */
export interface ReactionMark {
  emoji: string;
  from: ReactionAuthor;
  /** What a screen reader says: "Business reacted 👍". */
  label: string;
}

/** What the chat draws, in order: messages with their reactions, and lone reactions. */
export type ChatItem =
  | { kind: 'message'; message: PhoneMessage; reactions: ReactionMark[] }
  /** A reaction to a message that is not in this chat: a small line where it happened. */
  | { kind: 'reaction'; message: PhoneMessage; mark: ReactionMark; failed: boolean };

interface ReactionContent {
  target: string;
  emoji: string;
}

function reactionContent(m: PhoneMessage): ReactionContent | undefined {
  const o = m.message;
  if (!o || typeof o !== 'object' || Array.isArray(o)) return undefined;
  const { message_id: target, emoji } = o as Record<string, unknown>;
  if (typeof target !== 'string' || !target) return undefined;
  return { target, emoji: typeof emoji === 'string' ? emoji : '' };
}

function authorOf(m: PhoneMessage): ReactionAuthor {
  return m.direction === 'from_business' ? 'business' : 'user';
}

export function reactionLabel(from: ReactionAuthor, emoji: string): string {
  return `${from === 'business' ? 'Business' : 'You'} reacted ${emoji}`;
}

/**
 * The chat's entries as WhatsApp shows them: reactions folded onto the messages they
 * react to. A reaction to a message the chat does not hold becomes a line of its own (its
 * author's latest one only, and none once taken back). A reaction that did not reach the
 * phone (`failed`) changes nothing on its message and is a line saying so.
 */
export function chatItems(messages: readonly PhoneMessage[]): ChatItem[] {
  const ids = new Set(messages.filter((m) => m.type !== 'reaction').map((m) => m.id));
  // Per target message and author, the latest reaction that reached the phone.
  const latest = new Map<string, Map<ReactionAuthor, { entry: PhoneMessage; emoji: string }>>();
  for (const m of messages) {
    if (m.type !== 'reaction' || m.status === 'failed') continue;
    const content = reactionContent(m);
    if (!content) continue;
    let byAuthor = latest.get(content.target);
    if (!byAuthor) {
      byAuthor = new Map();
      latest.set(content.target, byAuthor);
    }
    byAuthor.set(authorOf(m), { entry: m, emoji: content.emoji });
  }

  const items: ChatItem[] = [];
  for (const m of messages) {
    if (m.type !== 'reaction') {
      const reactions: ReactionMark[] = [];
      for (const from of ['business', 'user'] as const) {
        const r = latest.get(m.id)?.get(from);
        if (r?.emoji) reactions.push({ emoji: r.emoji, from, label: reactionLabel(from, r.emoji) });
      }
      items.push({ kind: 'message', message: m, reactions });
      continue;
    }
    const content = reactionContent(m);
    const from = authorOf(m);
    const emoji = content?.emoji ?? '';
    const mark = { emoji, from, label: reactionLabel(from, emoji) };
    if (m.status === 'failed') {
      // It never reached the phone; the person at the console should still see it failed.
      items.push({ kind: 'reaction', message: m, mark, failed: true });
      continue;
    }
    if (!content || ids.has(content.target)) continue;
    // A lone line only for the author's latest reaction to that message, while it holds one.
    if (emoji && latest.get(content.target)?.get(from)?.entry === m) {
      items.push({ kind: 'reaction', message: m, mark, failed: false });
    }
  }
  return items;
}
