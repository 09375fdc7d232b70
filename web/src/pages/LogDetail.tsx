// One message: every status it went through, the error code and what it means, what it
// cost, and its content drawn as the chat bubble.

import { useCallback, type ReactNode } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { logsApi } from '../api/endpoints';
import type { MessageRecord, StatusObject } from '../api/types';
import { Bubble, type Ticks } from '../chat/Bubble';
import { deliveryMeaning } from '../chat/errorCodes';
import { logBubble, snippet } from '../chat/model';
import { ErrorBanner, PageHeader, Pill } from '../components/ui';
import { formatDateTime, formatTime, useLoad } from '../hooks';

function ticksOf(state: string): Ticks | undefined {
  switch (state) {
    case 'queued':
      return 'pending';
    case 'sent':
      return 'sent';
    case 'delivered':
      return 'delivered';
    case 'read':
      return 'read';
    case 'undelivered':
    case 'rejected':
    case 'failed':
      return 'failed';
    default:
      return undefined;
  }
}

function ErrorLine({ status }: { status: StatusObject }) {
  if (status.errorCode === undefined && !status.errorMessage) return null;
  const meaning = deliveryMeaning(status.errorCode);
  return (
    <div className="error-explained">
      {status.errorCode !== undefined ? (
        <div>
          <span className="muted">Error code</span> <strong data-testid="error-code">{status.errorCode}</strong>
          {meaning ? <span> · {meaning}</span> : null}
        </div>
      ) : null}
      {status.errorMessage ? <div className="muted">{status.errorMessage}</div> : null}
    </div>
  );
}

function Timeline({ record }: { record: MessageRecord }) {
  const history = record.statusHistory?.length ? record.statusHistory : [record.status];
  return (
    <section className="panel" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Status timeline</h2>
      <ol className="timeline">
        {history.map((s, i) => (
          <li key={i} data-testid="timeline-step">
            <span className="timeline-dot" aria-hidden="true" />
            <div>
              <Pill value={s.state} />
              {s.detail ? <span className="muted"> {s.detail.replace(/_/g, ' ')}</span> : null}
              <div className="muted">{formatDateTime(s.timestamp)}</div>
              <ErrorLine status={s} />
            </div>
          </li>
        ))}
      </ol>
      {!record.statusHistory ? <p className="hint">Only the latest status is known for this message.</p> : null}
    </section>
  );
}

function Facts({ record, search }: { record: MessageRecord; search: string }) {
  const rows: [string, ReactNode][] = [
    ['UMID', <code key="u">{record.umid}</code>],
    ['Direction', record.direction],
    ['Subaccount', record.subAccountId],
    ['Channel', `${record.channel}${record.channelId ? ` · ${record.channelId}` : ''}`],
    ['User', record.user.msisdn],
  ];
  // WhatsApp's business-scoped id of the user, when WhatsApp gave one (a send may name the
  // user by it alone).
  if (record.user.channelUserId) {
    rows.push(['WhatsApp user id', <code key="c" data-testid="channel-user-id">{record.user.channelUserId}</code>]);
  }
  rows.push(
    ['Country', record.country ?? '—'],
    ['Content type', record.contentType],
    ['Created', formatDateTime(record.createdAt)],
  );
  if (record.replyToUmid) {
    rows.push([
      'In reply to',
      <Link key="r" data-testid="reply-to" to={`/logs/${encodeURIComponent(record.subAccountId)}/${encodeURIComponent(record.replyToUmid)}${search}`}>
        {record.replyToUmid}
      </Link>,
    ]);
  }
  if (record.clientMessageId) rows.push(['Client message id', record.clientMessageId]);
  if (record.batchId) rows.push(['Batch', `${record.batchId}${record.clientBatchId ? ` (${record.clientBatchId})` : ''}`]);
  if (record.scheduled) rows.push(['Scheduled', formatDateTime(record.scheduled)]);
  if (record.expiry) rows.push(['Expires', formatDateTime(record.expiry)]);
  if (record.hold) rows.push(['Held', `${record.hold.reason} until ${formatDateTime(record.hold.until)}`]);
  if (record.pricing) {
    const p = record.pricing;
    rows.push([
      'Pricing',
      `${p.pricingCategory ?? '—'}${p.type ? ` · ${p.type}` : ''}${p.billable === undefined ? '' : p.billable ? ' · billable' : ' · free'}${
        p.cost === undefined || p.cost === null ? '' : ` · ${p.cost}`
      }`,
    ]);
  }
  const w = record.conversationWindow?.customerServiceWindow;
  if (w) rows.push(['Service window', w.open ? `open until ${formatDateTime(w.expiresAt)}` : 'closed']);
  const f = record.conversationWindow?.freeEntryPoint;
  if (f?.active) rows.push(['Free entry point', `until ${formatDateTime(f.expiresAt)}`]);
  return (
    <dl className="facts facts-wide">
      {rows.map(([k, v]) => (
        <div key={k} className="fact">
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** The message an inbound answer replies to, as its bubble quotes it. */
function useQuoted(record: MessageRecord | undefined): { author: string; text: string } | undefined {
  const sub = record?.subAccountId;
  const replyTo = record?.replyToUmid;
  const load = useCallback(
    () => (sub && replyTo ? logsApi.details(sub, replyTo) : Promise.resolve(undefined)),
    [sub, replyTo],
  );
  const quoted = useLoad(load).data?.data[0];
  if (!quoted) return undefined;
  return {
    author: quoted.direction === 'outbound' ? 'Business' : 'User',
    text: snippet(logBubble(quoted.contentType, quoted.content, quoted.contentObject ?? undefined)),
  };
}

export default function LogDetail() {
  const { subAccountId = '', umid = '' } = useParams();
  const [params] = useSearchParams();
  const search = params.toString() ? `?${params.toString()}` : '';
  const load = useCallback(() => logsApi.details(subAccountId, umid), [subAccountId, umid]);
  const details = useLoad(load);
  const records = details.data?.data ?? [];
  const record = records[0];
  const quoted = useQuoted(record);
  return (
    <section className="page">
      <PageHeader title="Message details">
        <Link to={`/logs${search}`}>Back to logs</Link>
      </PageHeader>
      <ErrorBanner error={details.error} />
      {record ? (
        <div className="detail-grid">
          <section className="panel" aria-labelledby="facts-title">
            <h2 id="facts-title">
              {record.direction === 'inbound' ? 'Inbound' : 'Outbound'} {record.contentType} message <Pill value={record.status.state} />
            </h2>
            <ErrorLine status={record.status} />
            <Facts record={record} search={search} />
          </section>
          <section className="panel" aria-labelledby="content-title">
            <h2 id="content-title">Content</h2>
            <div className="wa-chat wa-chat-inline" data-testid="log-content">
              <Bubble
                model={logBubble(record.contentType, record.content, record.contentObject ?? undefined)}
                side={record.direction === 'outbound' ? 'out' : 'in'}
                time={formatTime(record.createdAt)}
                ticks={record.direction === 'outbound' ? ticksOf(record.status.state) : undefined}
                quoted={quoted}
                interactive={false}
              />
            </div>
          </section>
          <Timeline record={record} />
        </div>
      ) : null}
    </section>
  );
}
