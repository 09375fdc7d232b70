// The channel's WhatsApp templates (8x8's template API): filters, a preview of each as the
// phone shows it, and delete.

import { useCallback, useMemo, useState } from 'react';
import { Link, useLocation } from 'react-router';
import { templatesApi } from '../api/endpoints';
import type { RegisteredTemplate } from '../api/types';
import { Bubble } from '../chat/Bubble';
import { templateToRich } from '../chat/model';
import { Empty, ErrorBanner, Notice, PageHeader, Pill } from '../components/ui';
import { useSimEvent } from '../events';
import { formatDateTime, useAction, useLoad } from '../hooks';
import { useCan } from '../session';
import { useWorkspace } from '../workspace';

const CATEGORIES = ['MARKETING', 'UTILITY', 'AUTHENTICATION'];
const STATUSES = ['APPROVED', 'PENDING', 'REJECTED', 'PAUSED', 'DISABLED', 'FLAGGED', 'IN_APPEAL', 'PENDING_DELETION'];

function Row({ t, onDeleted }: { t: RegisteredTemplate; onDeleted: () => void }) {
  const ws = useWorkspace();
  const can = useCan();
  const [open, setOpen] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const action = useAction();
  const rich = useMemo(() => templateToRich(t.components), [t.components]);
  const remove = async () => {
    const done = await action.run(() => templatesApi.remove(ws.accountId, ws.channelId, t.templateName));
    if (done !== undefined) onDeleted();
  };
  const previewId = `preview-${t.templateName}-${t.language}`;
  return (
    <>
      <tr data-testid="template-row" data-name={t.templateName}>
        <td>
          <button type="button" className="link-button" aria-expanded={open} aria-controls={previewId} onClick={() => setOpen((o) => !o)}>
            {t.templateName}
          </button>
        </td>
        <td>{t.languageName}</td>
        <td>{t.categoryName}</td>
        <td>
          <Pill value={t.status} />
          {t.reason && t.status === 'REJECTED' ? <span className="muted"> {t.reason}</span> : null}
        </td>
        <td>{t.qualityScore ?? '—'}</td>
        <td>{formatDateTime(t.updatedAt)}</td>
        <td className="actions">
          {can('templates.write') && t.status !== 'PENDING_DELETION' && t.status !== 'DELETED' ? (
            confirming ? (
              <>
                <button type="button" className="button-danger" disabled={action.busy} onClick={() => void remove()}>
                  Delete {t.templateName}
                </button>
                <button type="button" onClick={() => setConfirming(false)}>
                  Keep
                </button>
              </>
            ) : (
              <button type="button" onClick={() => setConfirming(true)} aria-label={`Delete ${t.templateName}`}>
                Delete
              </button>
            )
          ) : null}
        </td>
      </tr>
      {action.error ? (
        <tr>
          <td colSpan={7}>
            <ErrorBanner error={action.error} onDismiss={action.clear} />
          </td>
        </tr>
      ) : null}
      {open ? (
        <tr id={previewId} className="preview-row">
          <td colSpan={7}>
            <div className="wa-chat wa-chat-inline">
              <Bubble model={{ type: 'rich', rich }} side="in" interactive={false} />
            </div>
          </td>
        </tr>
      ) : null}
    </>
  );
}

export default function Templates() {
  const ws = useWorkspace();
  const can = useCan();
  const location = useLocation();
  const created = (location.state as { created?: string } | null)?.created;
  const load = useCallback(
    () => (ws.channelId ? templatesApi.list(ws.accountId, ws.channelId) : Promise.resolve({ templates: [] })),
    [ws.accountId, ws.channelId],
  );
  const templates = useLoad(load);
  useSimEvent('templates', templates.reload);
  const [category, setCategory] = useState('');
  const [language, setLanguage] = useState('');
  const [status, setStatus] = useState('');
  const [name, setName] = useState('');
  const all = templates.data?.templates;
  const languages = useMemo(() => [...new Set((all ?? []).map((t) => t.language))].sort(), [all]);
  const list = useMemo(
    () =>
      (all ?? [])
        .filter((t) => !category || t.category === category)
        .filter((t) => !language || t.language === language)
        .filter((t) => !status || t.status === status)
        .filter((t) => !name || t.templateName.includes(name.trim().toLowerCase())),
    [all, category, language, status, name],
  );
  return (
    <section className="page">
      <PageHeader title="Templates">
        {can('templates.write') ? (
          <Link className="button button-primary" to="/templates/new">
            New template
          </Link>
        ) : null}
      </PageHeader>
      {created ? <Notice>Template {created} was submitted for review.</Notice> : null}
      <form className="filters" role="search" aria-label="Filter templates" onSubmit={(e) => e.preventDefault()}>
        {ws.choices.length > 1 ? (
          <label className="field field-inline">
            <span>Channel</span>
            <select value={ws.channelId} onChange={(e) => ws.choose(e.target.value)}>
              {ws.choices.map((c) => (
                <option key={c.channelId} value={c.channelId}>
                  {c.businessNumber}
                </option>
              ))}
            </select>
          </label>
        ) : (
          <span className="field field-inline">
            <span>Channel</span>
            <span className="static-value">{ws.businessNumber || '—'}</span>
          </span>
        )}
        <label className="field field-inline">
          <span>Category</span>
          <select value={category} onChange={(e) => setCategory(e.target.value)}>
            <option value="">All</option>
            {CATEGORIES.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
        <label className="field field-inline">
          <span>Language</span>
          <select value={language} onChange={(e) => setLanguage(e.target.value)}>
            <option value="">All</option>
            {languages.map((l) => (
              <option key={l}>{l}</option>
            ))}
          </select>
        </label>
        <label className="field field-inline">
          <span>Status</span>
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">All</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label className="field field-inline">
          <span>Name</span>
          <input type="search" value={name} onChange={(e) => setName(e.target.value)} />
        </label>
      </form>
      <ErrorBanner error={templates.error} />
      {list.length === 0 && !templates.loading ? (
        <Empty>{all?.length ? 'No template matches these filters.' : 'This channel has no templates yet.'}</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Templates of {ws.businessNumber}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Language</th>
                <th scope="col">Category</th>
                <th scope="col">Status</th>
                <th scope="col">Quality</th>
                <th scope="col">Updated</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((t) => (
                <Row key={`${t.templateName}|${t.language}`} t={t} onDeleted={templates.reload} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
