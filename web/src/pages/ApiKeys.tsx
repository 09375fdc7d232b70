// The account's API keys: create (the key is shown this once), list, revoke.

import { useCallback, useState, type FormEvent } from 'react';
import { keysApi } from '../api/endpoints';
import type { CreatedKey } from '../api/types';
import { Empty, ErrorBanner, PageHeader, Pill } from '../components/ui';
import { copyToClipboard, formatDateTime, useAction, useLoad } from '../hooks';

export default function ApiKeys() {
  const load = useCallback(() => keysApi.list(), []);
  const keys = useLoad(load);
  const action = useAction();
  const [name, setName] = useState('');
  const [created, setCreated] = useState<CreatedKey>();
  const [copied, setCopied] = useState(false);
  const [confirm, setConfirm] = useState<string>();

  const create = async (e: FormEvent) => {
    e.preventDefault();
    const key = await action.run(() => keysApi.create(name.trim()));
    if (key) {
      setCreated(key);
      setCopied(false);
      setName('');
      keys.reload();
    }
  };
  const revoke = async (id: string) => {
    setConfirm(undefined);
    await action.run(() => keysApi.revoke(id));
    keys.reload();
  };
  const copy = async () => {
    if (created) setCopied(await copyToClipboard(created.key));
  };

  return (
    <section className="page">
      <PageHeader title="API keys" />
      <form className="inline-form panel" onSubmit={(e) => void create(e)} aria-label="Create an API key">
        <label>
          <span>Name of the new key</span>
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} placeholder="CRM integration" />
        </label>
        <button type="submit" className="button-primary" disabled={action.busy || !name.trim()}>
          Create key
        </button>
      </form>
      <ErrorBanner error={action.error ?? keys.error} onDismiss={action.clear} />
      {created ? (
        <div className="banner banner-key" role="status">
          <p>
            <strong>{created.name}</strong>: copy this key now. Parley keeps only its hash and will not show it again.
          </p>
          <div className="key-reveal">
            <code data-testid="new-key">{created.key}</code>
            <button type="button" onClick={() => void copy()}>
              {copied ? 'Copied' : 'Copy'}
            </button>
            <button type="button" className="link-button" onClick={() => setCreated(undefined)}>
              Done
            </button>
          </div>
        </div>
      ) : null}
      {keys.data && keys.data.keys.length === 0 ? (
        <Empty>No API keys.</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">API keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Created</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {(keys.data?.keys ?? []).map((k) => (
                <tr key={k.id}>
                  <td>{k.name}</td>
                  <td>
                    <code>{k.prefix}…</code>
                  </td>
                  <td>{formatDateTime(k.createdAt)}</td>
                  <td>{k.revokedAt ? <Pill value="revoked" /> : <Pill value="ACTIVE" />}</td>
                  <td className="actions">
                    {k.revokedAt ? (
                      <span className="muted">revoked {formatDateTime(k.revokedAt)}</span>
                    ) : confirm === k.id ? (
                      <>
                        <button type="button" className="button-danger" onClick={() => void revoke(k.id)}>
                          Revoke {k.name}
                        </button>
                        <button type="button" onClick={() => setConfirm(undefined)}>
                          Keep
                        </button>
                      </>
                    ) : (
                      <button type="button" onClick={() => setConfirm(k.id)} aria-label={`Revoke ${k.name}`}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
