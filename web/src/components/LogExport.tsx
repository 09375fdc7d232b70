// The log page's export (8x8's log export jobs): the filters the export API knows become its
// request, the job is polled until it ends, and a finished one shows its download link.

import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { logsApi, settingsApi } from '../api/endpoints';
import type { LogExportJob, LogExportRequest } from '../api/types';
import { errorText } from '../api/client';
import { formatDateTime, useAction, useLoad } from '../hooks';
import { useSession } from '../session';
import { ErrorBanner } from './ui';

/** The log page's filters, as it applies them (times already ISO). */
export interface ExportFilters {
  subAccountId?: string;
  from?: string;
  to?: string;
  recipient?: string;
  country?: string;
  /** Filters set that the export API has no field for, by their labels. */
  ignored: string[];
}

const POLL_MS = 1000;
const ENDED: LogExportJob['status'][] = ['succeeded', 'failed', 'cancelled', 'empty'];

export function exportRequest(f: ExportFilters, limit: number): LogExportRequest {
  const body: LogExportRequest = {};
  if (f.from) body.from = f.from;
  if (f.to) body.to = f.to;
  const number = f.recipient?.trim();
  if (number) body.phoneNumber = number.startsWith('+') ? number : `+${number}`;
  const countries = (f.country ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (countries.length) body.countries = countries;
  if (limit > 0) body.limit = limit;
  return body;
}

function describe(f: ExportFilters): string {
  const parts = [
    f.from || f.to ? `from ${f.from ? formatDateTime(f.from) : '7 days before'} to ${f.to ? formatDateTime(f.to) : 'now'}` : 'of the last 7 days',
  ];
  if (f.recipient) parts.push(`with ${f.recipient}`);
  if (f.country) parts.push(`in ${f.country}`);
  return parts.join(', ');
}

/**
 * Polls the job every second until it ends: the latest answer, or why it could not be
 * read. A new `nonce` asks again at once.
 */
function useExportJob(subAccountId: string, jobId: string | undefined, nonce: number): { job?: LogExportJob; error?: string } {
  const [state, setState] = useState<{ id?: string; job?: LogExportJob; error?: string }>({});
  useEffect(() => {
    if (!jobId) return;
    const ctl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = () => {
      logsApi.exportStatus(subAccountId, jobId, ctl.signal).then(
        (job) => {
          if (ctl.signal.aborted) return;
          setState({ id: jobId, job });
          if (!ENDED.includes(job.status)) timer = setTimeout(poll, POLL_MS);
        },
        (e: unknown) => {
          if (!ctl.signal.aborted) setState((s) => ({ ...s, id: jobId, error: errorText(e) }));
        },
      );
    };
    poll();
    return () => {
      ctl.abort();
      clearTimeout(timer);
    };
  }, [subAccountId, jobId, nonce]);
  return state.id === jobId ? { job: state.job, error: state.error } : {};
}

function JobState({ job, error }: { job?: LogExportJob; error?: string }) {
  if (error) return <ErrorBanner error={`The export's state could not be read: ${error}`} />;
  if (!job) return <p role="status">Starting the export…</p>;
  switch (job.status) {
    case 'queued':
    case 'running':
      return <p role="status">The export is {job.status === 'queued' ? 'waiting to start' : 'being written'}…</p>;
    case 'succeeded': {
      const links = job.data ?? [];
      return (
        <div role="status" className="export-ready">
          {links.map((href, i) => (
            <a key={href} className="button button-primary" href={href} download data-testid="export-link">
              Download the export{links.length > 1 ? ` (part ${i + 1})` : ''} · CSV, gzip
            </a>
          ))}
          {job.expires ? <span className="muted">The link works until {formatDateTime(job.expires)}.</span> : null}
        </div>
      );
    }
    case 'empty':
      return <p role="status">No message matched: there is nothing to download.</p>;
    case 'cancelled':
      return <p role="status">The export was cancelled.</p>;
    case 'failed':
      return <ErrorBanner error="The export failed. Try again, or with a shorter time span." />;
  }
}

/** Whether exported files show numbers and content; an admin may change it. */
function Masking() {
  const session = useSession();
  const load = useCallback(() => settingsApi.get(session.accountId), [session.accountId]);
  const settings = useLoad(load);
  const action = useAction();
  const unmasked = settings.data?.logExportsUnmasked;
  if (unmasked === undefined) return null;
  const admin = session.user.role === 'admin';
  const toggle = async (next: boolean) => {
    if (await action.run(() => settingsApi.update(session.accountId, { logExportsUnmasked: next }))) settings.reload();
  };
  return (
    <div className="export-masking">
      {admin ? (
        <label className="checkbox">
          <input type="checkbox" checked={unmasked} disabled={action.busy} onChange={(e) => void toggle(e.target.checked)} /> Show phone
          numbers and content in the clear in exports
        </label>
      ) : (
        <span className="muted">
          {unmasked ? 'Exports show phone numbers and content in the clear.' : 'Exports mask phone numbers and content.'}
        </span>
      )}
      <ErrorBanner error={action.error} onDismiss={action.clear} />
    </div>
  );
}

export function LogExport({ filters, fallbackSubAccountId }: { filters: ExportFilters; fallbackSubAccountId: string }) {
  // An export covers one subaccount: the filtered one, or the one the console works on.
  const subAccountId = filters.subAccountId || fallbackSubAccountId;
  const [limit, setLimit] = useState('');
  const [jobId, setJobId] = useState<string>();
  const start = useAction();
  const cancel = useAction();
  const [nonce, setNonce] = useState(0);
  const { job, error } = useExportJob(subAccountId, jobId, nonce);
  const busy = !!jobId && !error && (!job || !ENDED.includes(job.status));
  const limitValue = limit === '' ? 0 : Number(limit);
  const limitOk = Number.isInteger(limitValue) && limitValue >= 0;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!limitOk) return;
    setJobId(undefined);
    const started = await start.run(() => logsApi.startExport(subAccountId, exportRequest(filters, limitValue)));
    if (started) setJobId(started.jobId);
  };
  const stop = async () => {
    if (!jobId) return;
    const id = jobId;
    await cancel.run(() => logsApi.cancelExport(subAccountId, id));
    // Ask at once rather than at the next poll, so `cancelled` shows now.
    setNonce((n) => n + 1);
  };

  return (
    <section className="panel export-panel" aria-labelledby="export-title">
      <div className="panel-head">
        <h2 id="export-title">Export</h2>
      </div>
      <p>
        Messages of subaccount <strong>{subAccountId}</strong> {describe(filters)}, as a CSV file.
      </p>
      {filters.ignored.length ? (
        <p className="hint">The export does not filter by {filters.ignored.join(', ')}: the file has them as columns.</p>
      ) : null}
      <Masking />
      <form className="inline-form" onSubmit={(e) => void submit(e)} aria-label="Export messages">
        <label>
          <span>Rows at most</span>
          <input type="number" min="0" step="1" placeholder="no limit" value={limit} onChange={(e) => setLimit(e.target.value)} aria-invalid={!limitOk} />
        </label>
        <button type="submit" className="button-primary" disabled={start.busy || busy || !limitOk}>
          Export messages
        </button>
        {busy ? (
          <button type="button" onClick={() => void stop()} disabled={cancel.busy}>
            Cancel export
          </button>
        ) : null}
      </form>
      <ErrorBanner error={start.error ?? cancel.error} />
      {jobId ? <JobState job={job} error={error} /> : null}
    </section>
  );
}
