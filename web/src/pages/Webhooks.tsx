// Where Parley posts events (8x8's webhook configuration API), and what became of each
// event: recent deliveries and failures, failing endpoints, redrive.

import { Fragment, useCallback, useState, type FormEvent } from 'react';
import { webhooksApi } from '../api/endpoints';
import type { Delivery, Webhook, WebhookOAuth, WebhookType } from '../api/types';
import { Empty, ErrorBanner, Notice, PageHeader, Pill } from '../components/ui';
import { formatDateTime, useAction, useLoad } from '../hooks';
import { useCan, useSession } from '../session';
import { useWorkspace } from '../workspace';

const TYPES: [WebhookType, string][] = [
  ['CADR', 'Delivery receipts'],
  ['MSG', 'Inbound messages'],
  ['CABM', 'Business management (templates, quality, limits)'],
];

function newSecret(): string {
  const bytes = new Uint8Array(24);
  crypto.getRandomValues(bytes);
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

/** How Parley proves itself to the endpoint: nothing, a fixed Authorization header, or OAuth. */
interface AuthChoice {
  kind: 'none' | 'header' | 'oauth';
  header: string;
  oauth: Required<WebhookOAuth>;
}

const NO_AUTH: AuthChoice = {
  kind: 'none',
  header: '',
  oauth: { url: '', clientId: '', clientSecret: '', credentialsLocation: 'header', scope: '' },
};

/** The webhook's fields for `auth`: 8x8 takes `httpAuthorization` or `oauth`, or neither. */
function authFields(auth: AuthChoice): Pick<Webhook, 'httpAuthorization' | 'oauth'> {
  if (auth.kind === 'header') return { httpAuthorization: auth.header.trim() };
  if (auth.kind === 'none') return {};
  const { url, clientId, clientSecret, credentialsLocation, scope } = auth.oauth;
  const oauth: WebhookOAuth = { url: url.trim(), clientId: clientId.trim(), clientSecret, credentialsLocation };
  if (scope.trim()) oauth.scope = scope.trim();
  return { oauth };
}

/** What the list says of a webhook's authentication (its secrets are never shown back). */
function authSummary(h: Webhook): string {
  if (h.oauth) return `OAuth · client ${h.oauth.clientId}`;
  return h.httpAuthorization ? 'Authorization header' : '—';
}

const AUTH_KINDS: [AuthChoice['kind'], string][] = [
  ['none', 'None'],
  ['header', 'Authorization header'],
  ['oauth', 'OAuth 2.0 client credentials'],
];

function AuthFields({ auth, onChange }: { auth: AuthChoice; onChange: (auth: AuthChoice) => void }) {
  const setOAuth = (change: Partial<WebhookOAuth>) => onChange({ ...auth, oauth: { ...auth.oauth, ...change } });
  return (
    <fieldset className="field field-span">
      <legend>Authentication</legend>
      <div className="radio-row">
        {AUTH_KINDS.map(([kind, label]) => (
          <label key={kind} className="checkbox">
            <input type="radio" name="webhook-auth" checked={auth.kind === kind} onChange={() => onChange({ ...auth, kind })} /> {label}
          </label>
        ))}
      </div>
      {auth.kind === 'header' ? (
        <label className="field">
          <span>Authorization header</span>
          <input value={auth.header} onChange={(e) => onChange({ ...auth, header: e.target.value })} required placeholder="Bearer …" autoComplete="off" />
        </label>
      ) : null}
      {auth.kind === 'oauth' ? (
        <div className="form-grid">
          <p className="hint field-span">Parley asks the token URL for an access token with these credentials and sends it with each event.</p>
          <label className="field field-span">
            <span>Token URL</span>
            <input type="url" value={auth.oauth.url} onChange={(e) => setOAuth({ url: e.target.value })} required placeholder="https://auth.example.com/oauth/token" />
          </label>
          <label className="field">
            <span>Client ID</span>
            <input value={auth.oauth.clientId} onChange={(e) => setOAuth({ clientId: e.target.value })} required autoComplete="off" />
          </label>
          <label className="field">
            <span>Client secret</span>
            <input type="password" value={auth.oauth.clientSecret} onChange={(e) => setOAuth({ clientSecret: e.target.value })} required autoComplete="off" />
          </label>
          <label className="field">
            <span>Scope (optional)</span>
            <input value={auth.oauth.scope} onChange={(e) => setOAuth({ scope: e.target.value })} placeholder="read write" autoComplete="off" />
          </label>
          <label className="field">
            <span>Credentials sent</span>
            <select
              value={auth.oauth.credentialsLocation}
              onChange={(e) => setOAuth({ credentialsLocation: e.target.value as WebhookOAuth['credentialsLocation'] })}
            >
              <option value="header">In the header (HTTP Basic)</option>
              <option value="body">In the form body</option>
            </select>
          </label>
        </div>
      ) : null}
    </fieldset>
  );
}

function WebhookForm({ onSaved }: { onSaved: () => void }) {
  const ws = useWorkspace();
  const session = useSession();
  const action = useAction();
  const [sub, setSub] = useState('*');
  const [types, setTypes] = useState<WebhookType[]>(['CADR', 'MSG']);
  const [url, setUrl] = useState('');
  const [enabled, setEnabled] = useState(true);
  const [auth, setAuth] = useState(NO_AUTH);
  const [secret, setSecret] = useState('');
  const [saved, setSaved] = useState(false);
  const secretShort = secret.length > 0 && secret.length < 16;
  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!types.length || secretShort) return;
    setSaved(false);
    const hooks = types.map((type) => {
      const h: Record<string, unknown> = { subAccountId: sub, type, url: url.trim(), enabled, ...authFields(auth) };
      if (secret) h.signingSecret = secret;
      return h;
    });
    if (await action.run(() => webhooksApi.save(ws.accountId, hooks))) {
      setSaved(true);
      // Secrets do not stay on the screen once saved (the list shows them masked).
      setUrl('');
      setAuth(NO_AUTH);
      setSecret('');
      onSaved();
    }
  };
  return (
    <form className="panel form-grid" onSubmit={(e) => void save(e)} aria-labelledby="webhook-form-title">
      <h2 id="webhook-form-title" className="form-title">
        Configure a webhook
      </h2>
      <ErrorBanner error={action.error} onDismiss={action.clear} />
      {saved ? <Notice>Webhook saved.</Notice> : null}
      <label className="field">
        <span>Subaccount</span>
        <select value={sub} onChange={(e) => setSub(e.target.value)}>
          <option value="*">All subaccounts (*)</option>
          {session.subAccounts.map((s) => (
            <option key={s.id}>{s.id}</option>
          ))}
        </select>
      </label>
      <fieldset className="field">
        <legend>Events</legend>
        {TYPES.map(([t, label]) => (
          <label key={t} className="checkbox">
            <input
              type="checkbox"
              checked={types.includes(t)}
              onChange={(e) => setTypes((ts) => (e.target.checked ? [...ts, t] : ts.filter((x) => x !== t)))}
            />{' '}
            {t} · {label}
          </label>
        ))}
        {!types.length ? <span className="field-error">Pick at least one kind of event.</span> : null}
      </fieldset>
      <label className="field field-span">
        <span>URL</span>
        <input type="url" value={url} onChange={(e) => setUrl(e.target.value)} required placeholder="https://example.com/hooks" />
      </label>
      <AuthFields auth={auth} onChange={setAuth} />
      <div className="field">
        <label htmlFor="signing-secret">Signing secret (optional)</label>
        <div className="input-with-button">
          <input
            id="signing-secret"
            value={secret}
            onChange={(e) => setSecret(e.target.value)}
            autoComplete="off"
            aria-invalid={secretShort}
            aria-describedby="secret-help"
          />
          <button type="button" onClick={() => setSecret(newSecret())}>
            Generate
          </button>
        </div>
        <span className={secretShort ? 'field-error' : 'hint'} id="secret-help">
          At least 16 characters; requests then carry Standard Webhooks signatures.
        </span>
      </div>
      <label className="checkbox">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Enabled
      </label>
      <div className="form-actions">
        <button type="submit" className="button-primary" disabled={action.busy || !types.length || secretShort}>
          Save webhook
        </button>
      </div>
    </form>
  );
}

function DeliveryDetail({ id }: { id: string }) {
  const ws = useWorkspace();
  const load = useCallback(() => webhooksApi.delivery(ws.accountId, id), [ws.accountId, id]);
  const d = useLoad(load);
  if (d.error) return <ErrorBanner error={d.error} />;
  if (!d.data) return <p role="status">Loading…</p>;
  return (
    <div className="delivery-detail">
      <h3>Attempts</h3>
      {d.data.attemptLog?.length ? (
        <ol className="attempts">
          {d.data.attemptLog.map((a, i) => (
            <li key={i}>
              {formatDateTime(a.at)} · {a.statusCode ?? 'no answer'}
              {a.latencyMs !== null ? ` · ${a.latencyMs} ms` : ''}
              {a.error ? <span className="field-error"> · {a.error}</span> : null}
            </li>
          ))}
        </ol>
      ) : (
        <p className="muted">Not tried yet.</p>
      )}
      <h3>Payload</h3>
      <pre className="payload">{JSON.stringify(d.data.payload, null, 2)}</pre>
    </div>
  );
}

function Deliveries() {
  const ws = useWorkspace();
  const can = useCan();
  const [state, setState] = useState('');
  const [type, setType] = useState('');
  const [pages, setPages] = useState<Delivery[][]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [open, setOpen] = useState<string>();
  const action = useAction();
  const [redriven, setRedriven] = useState<number>();
  const load = useCallback(
    () => webhooksApi.deliveries(ws.accountId, { state: state || undefined, type: type || undefined, limit: '50' }),
    [ws.accountId, state, type],
  );
  const first = useLoad(load);
  const more = async () => {
    const c = cursor ?? first.data?.nextCursor;
    if (!c) return;
    const page = await action.run(() =>
      webhooksApi.deliveries(ws.accountId, { state: state || undefined, type: type || undefined, limit: '50', cursor: c }),
    );
    if (page) {
      setPages((p) => [...p, page.deliveries]);
      setCursor(page.nextCursor);
    }
  };
  const reload = () => {
    setPages([]);
    setCursor(null);
    first.reload();
  };
  const redrive = async (body: Record<string, string>) => {
    const answer = await action.run(() => webhooksApi.redrive(ws.accountId, body));
    if (answer) {
      setRedriven(answer.redriven);
      reload();
    }
  };
  const all = [...(first.data?.deliveries ?? []), ...pages.flat()];
  const hasMore = pages.length ? !!cursor : !!first.data?.nextCursor;
  return (
    <section className="panel" aria-labelledby="deliveries-title">
      <div className="panel-head">
        <h2 id="deliveries-title">Recent deliveries</h2>
        <span className="spacer" />
        <button type="button" onClick={reload}>
          Refresh
        </button>
        {can('webhooks.manage') ? (
          <button type="button" onClick={() => void redrive({})} disabled={action.busy}>
            Redrive every dead event
          </button>
        ) : null}
      </div>
      <div className="filters">
        <label className="field field-inline">
          <span>State</span>
          <select
            value={state}
            onChange={(e) => {
              setPages([]);
              setCursor(null);
              setState(e.target.value);
            }}
          >
            <option value="">Any</option>
            {['pending', 'delivered', 'dead', 'dropped'].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label className="field field-inline">
          <span>Type</span>
          <select
            value={type}
            onChange={(e) => {
              setPages([]);
              setCursor(null);
              setType(e.target.value);
            }}
          >
            <option value="">Any</option>
            {TYPES.map(([t]) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
      </div>
      {redriven !== undefined ? <Notice>{redriven} event(s) will be delivered again.</Notice> : null}
      <ErrorBanner error={first.error ?? action.error} onDismiss={action.clear} />
      {all.length === 0 && !first.loading ? (
        <Empty>No deliveries yet.</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Webhook deliveries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Type</th>
                <th scope="col">State</th>
                <th scope="col">Attempts</th>
                <th scope="col">URL</th>
                <th scope="col">Last error</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {all.map((d) => (
                <Fragment key={d.id}>
                  <tr>
                    <td>
                      <button type="button" className="link-button" aria-expanded={open === d.id} onClick={() => setOpen(open === d.id ? undefined : d.id)}>
                        {formatDateTime(d.createdAt)}
                      </button>
                    </td>
                    <td>{d.type}</td>
                    <td>
                      <Pill value={d.state} />
                    </td>
                    <td>{d.attempts}</td>
                    <td className="content-cell">{d.url ?? '—'}</td>
                    <td className="content-cell">{d.lastError ?? ''}</td>
                    <td className="actions">
                      {can('webhooks.manage') && d.state !== 'pending' ? (
                        <button type="button" disabled={action.busy} onClick={() => void redrive({ id: d.id })}>
                          Redrive<span className="visually-hidden"> event {d.id}</span>
                        </button>
                      ) : null}
                    </td>
                  </tr>
                  {open === d.id ? (
                    <tr>
                      <td colSpan={7}>
                        <DeliveryDetail id={d.id} />
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {hasMore ? (
        <button type="button" onClick={() => void more()} disabled={action.busy}>
          Load older
        </button>
      ) : null}
    </section>
  );
}

export default function Webhooks() {
  const ws = useWorkspace();
  const can = useCan();
  const load = useCallback(() => webhooksApi.list(ws.accountId), [ws.accountId]);
  const hooks = useLoad(load);
  const loadEndpoints = useCallback(() => webhooksApi.endpoints(ws.accountId), [ws.accountId]);
  const endpoints = useLoad(loadEndpoints);
  const action = useAction();
  const remove = async (subAccountId: string, type: string) => {
    await action.run(() => webhooksApi.remove(ws.accountId, [{ subAccountId, type }]));
    hooks.reload();
  };
  const failing = (endpoints.data?.endpoints ?? []).filter((e) => e.state === 'failing');
  return (
    <section className="page">
      <PageHeader title="Webhooks" />
      <ErrorBanner error={hooks.error ?? action.error} onDismiss={action.clear} />
      {failing.map((e) => (
        <div key={e.url} className="banner banner-error" role="alert">
          {e.url} is failing since {formatDateTime(e.failingSince)}
          {e.lastError ? `: ${e.lastError}` : ''}. Parley probes it slowly until it answers.
        </div>
      ))}
      {hooks.data && hooks.data.length === 0 ? (
        <Empty>No webhooks: Parley posts no events yet.</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Webhooks</caption>
            <thead>
              <tr>
                <th scope="col">Subaccount</th>
                <th scope="col">Type</th>
                <th scope="col">URL</th>
                <th scope="col">Enabled</th>
                <th scope="col">Authorization</th>
                <th scope="col">Signed</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {(hooks.data ?? []).map((h) => (
                <tr key={`${h.subAccountId}|${h.type}`}>
                  <td>{h.subAccountId}</td>
                  <td>{h.type}</td>
                  <td className="content-cell">{h.url}</td>
                  <td>{h.enabled ? 'yes' : 'no'}</td>
                  <td>{authSummary(h)}</td>
                  <td>{h.signingSecret ? 'yes' : 'no'}</td>
                  <td className="actions">
                    {can('webhooks.manage') ? (
                      <button type="button" disabled={action.busy} onClick={() => void remove(h.subAccountId, h.type)}>
                        Delete<span className="visually-hidden"> {h.type} webhook of {h.subAccountId}</span>
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {can('webhooks.manage') ? <WebhookForm onSaved={hooks.reload} /> : null}
      <Deliveries />
    </section>
  );
}
