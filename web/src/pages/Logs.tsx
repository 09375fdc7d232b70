// The message log (`GET /api/v1/accounts/{id}/messages`): every filter of the log API, kept
// in the address so a link or the back button brings the same page; cursor paging.

import { useCallback, useMemo, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { logsApi, type LogFilters } from '../api/endpoints';
import { LogExport, type ExportFilters } from '../components/LogExport';
import { Empty, ErrorBanner, PageHeader, Pill } from '../components/ui';
import { useSimEvent } from '../events';
import { formatDateTime, useLoad } from '../hooks';
import { useCan, useSession } from '../session';
import { useWorkspace } from '../workspace';

const FILTER_KEYS = ['subAccountId', 'channelId', 'direction', 'status', 'country', 'umid', 'clientMessageId', 'recipient', 'from', 'to', 'pageSize'] as const;
type FilterKey = (typeof FILTER_KEYS)[number];

/** Filters the export API has no field for, and how the form labels them. */
const NOT_EXPORTED: [FilterKey, string][] = [
  ['channelId', 'channel'],
  ['direction', 'direction'],
  ['status', 'status'],
  ['umid', 'UMID'],
  ['clientMessageId', 'client message id'],
];

/** `datetime-local` (the browser's zone) → ISO UTC, as the log API takes it. */
function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export default function Logs() {
  const ws = useWorkspace();
  const session = useSession();
  const can = useCan();
  const [params, setParams] = useSearchParams();
  const [exporting, setExporting] = useState(false);
  const applied = useMemo(() => {
    const f: Partial<Record<FilterKey, string>> = {};
    for (const k of FILTER_KEYS) {
      const v = params.get(k);
      if (v) f[k] = v;
    }
    return f;
  }, [params]);
  const cursor = params.get('cursor') ?? undefined;
  const [draft, setDraft] = useState<Partial<Record<FilterKey, string>>>(applied);
  const [history, setHistory] = useState<(string | undefined)[]>([]);

  const query = useMemo<LogFilters>(
    () => ({
      ...applied,
      channel: 'whatsapp',
      from: toIso(applied.from ?? ''),
      to: toIso(applied.to ?? ''),
      pageSize: applied.pageSize ? Number(applied.pageSize) : 50,
      cursor,
    }),
    [applied, cursor],
  );
  const load = useCallback((signal: AbortSignal) => logsApi.page(ws.accountId, query, signal), [ws.accountId, query]);
  const page = useLoad(load);
  const [live, setLive] = useState(true);
  useSimEvent('phone', () => {
    if (live && !cursor) page.reload();
  });

  const apply = (e: FormEvent) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const k of FILTER_KEYS) {
      const v = draft[k]?.trim();
      if (v) next.set(k, v);
    }
    setHistory([]);
    setParams(next);
  };
  const reset = () => {
    setDraft({});
    setHistory([]);
    setParams(new URLSearchParams());
  };
  const goTo = (c: string | undefined) => {
    const next = new URLSearchParams(params);
    if (c) next.set('cursor', c);
    else next.delete('cursor');
    setParams(next);
  };
  const nextPage = () => {
    if (!page.data?.nextCursor) return;
    setHistory((h) => [...h, cursor]);
    goTo(page.data.nextCursor);
  };
  const previousPage = () => {
    const previous = history[history.length - 1];
    setHistory((h) => h.slice(0, -1));
    goTo(previous);
  };
  const field = (k: FilterKey) => ({
    value: draft[k] ?? '',
    onChange: (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [k]: e.target.value })),
  });
  const detailSearch = params.toString();
  const detailLink = (subAccountId: string, umid: string) =>
    `/logs/${encodeURIComponent(subAccountId)}/${encodeURIComponent(umid)}${detailSearch ? `?${detailSearch}` : ''}`;
  const exportFilters = useMemo<ExportFilters>(
    () => ({
      subAccountId: applied.subAccountId,
      from: query.from,
      to: query.to,
      recipient: applied.recipient,
      country: applied.country,
      ignored: NOT_EXPORTED.filter(([k]) => applied[k]).map(([, label]) => label),
    }),
    [applied, query],
  );

  return (
    <section className="page">
      <PageHeader title="Message logs">
        <label className="checkbox">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} /> Live
        </label>
        <button type="button" onClick={page.reload}>
          Refresh
        </button>
        {can('logs.export') ? (
          <button type="button" aria-expanded={exporting} aria-controls="log-export" onClick={() => setExporting((o) => !o)}>
            Export…
          </button>
        ) : null}
      </PageHeader>
      <form className="filters filters-grid" role="search" aria-label="Filter messages" onSubmit={apply}>
        <label className="field">
          <span>Subaccount</span>
          <select {...field('subAccountId')}>
            <option value="">All</option>
            {session.subAccounts.map((s) => (
              <option key={s.id}>{s.id}</option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Channel</span>
          <select {...field('channelId')}>
            <option value="">All WhatsApp</option>
            {ws.choices.map((c) => (
              <option key={c.channelId} value={c.channelId}>
                {c.businessNumber}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Direction</span>
          <select {...field('direction')}>
            <option value="">Both</option>
            <option value="outbound">Outbound</option>
            <option value="inbound">Inbound</option>
          </select>
        </label>
        <label className="field">
          <span>Status</span>
          <select {...field('status')}>
            <option value="">Any</option>
            {['queued', 'sent', 'delivered', 'read', 'undelivered', 'received'].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Recipient</span>
          <input {...field('recipient')} placeholder="+15551234567" inputMode="tel" />
        </label>
        <label className="field">
          <span>Countries</span>
          <input {...field('country')} placeholder="SG,MY" />
        </label>
        <label className="field">
          <span>UMID</span>
          <input {...field('umid')} />
        </label>
        <label className="field">
          <span>Client message id</span>
          <input {...field('clientMessageId')} />
        </label>
        <label className="field">
          <span>From</span>
          <input type="datetime-local" {...field('from')} />
        </label>
        <label className="field">
          <span>To</span>
          <input type="datetime-local" {...field('to')} />
        </label>
        <label className="field">
          <span>Page size</span>
          <select {...field('pageSize')}>
            {['', '25', '100', '200'].map((s) => (
              <option key={s} value={s}>
                {s || '50'}
              </option>
            ))}
          </select>
        </label>
        <div className="form-actions">
          <button type="submit" className="button-primary">
            Apply filters
          </button>
          <button type="button" onClick={reset}>
            Reset
          </button>
        </div>
      </form>
      {exporting && can('logs.export') ? (
        <div id="log-export">
          <LogExport filters={exportFilters} fallbackSubAccountId={ws.subAccountId} />
        </div>
      ) : null}
      <ErrorBanner error={page.error} />
      {page.data && page.data.data.length === 0 ? (
        <Empty>No messages match.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="log-table">
            <caption className="visually-hidden">Messages, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Direction</th>
                <th scope="col">User</th>
                <th scope="col">Type</th>
                <th scope="col">Content</th>
                <th scope="col">Status</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {(page.data?.data ?? []).map((m) => (
                <tr key={m.umid} data-testid="log-row" data-umid={m.umid} data-direction={m.direction}>
                  <td>
                    <Link to={detailLink(m.subAccountId, m.umid)}>{formatDateTime(m.createdAt)}</Link>
                  </td>
                  <td>{m.direction === 'inbound' ? '← in' : '→ out'}</td>
                  <td>{m.user.msisdn}</td>
                  <td>{m.contentType}</td>
                  <td className="content-cell" title={m.content}>
                    {m.replyToUmid ? (
                      <Link className="reply-link" to={detailLink(m.subAccountId, m.replyToUmid)} title={`Answers message ${m.replyToUmid}`}>
                        ↩ reply
                      </Link>
                    ) : null}
                    {m.content}
                  </td>
                  <td>
                    <Pill value={m.status.state} />
                  </td>
                  <td>{m.status.errorCode ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav className="pager" aria-label="Pages">
        <button type="button" onClick={previousPage} disabled={!cursor}>
          ← Newer
        </button>
        <button type="button" onClick={nextPage} disabled={!page.data?.nextCursor}>
          Older →
        </button>
      </nav>
    </section>
  );
}
