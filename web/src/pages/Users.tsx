// Console users and their roles (admins only): create, change role, disable, delete.

import { useCallback, useState, type FormEvent } from 'react';
import { usersApi } from '../api/endpoints';
import { ROLES, type ConsoleUser, type Role } from '../api/types';
import { ErrorBanner, PageHeader, Pill } from '../components/ui';
import { formatDateTime, useAction, useLoad } from '../hooks';
import { useSession } from '../session';

const ROLE_TEXT: Record<Role, string> = {
  admin: 'everything, including users and API keys',
  supervisor: 'templates, webhooks, logs, sending and the simulator',
  agent: 'phones, sending and logs',
  analyst: 'logs, exports, templates and webhooks, read only',
};

function UserRow({ user, self, onChanged }: { user: ConsoleUser; self: boolean; onChanged: () => void }) {
  const action = useAction();
  const [confirm, setConfirm] = useState(false);
  const change = async (c: Parameters<typeof usersApi.update>[1]) => {
    if (await action.run(() => usersApi.update(user.id, c))) onChanged();
  };
  const remove = async () => {
    setConfirm(false);
    await action.run(() => usersApi.remove(user.id));
    onChanged();
  };
  return (
    <>
      <tr data-testid="user-row" data-email={user.email}>
        <td>{user.name}</td>
        <td>{user.email}</td>
        <td>
          <label className="visually-hidden" htmlFor={`role-${user.id}`}>
            Role of {user.email}
          </label>
          <select id={`role-${user.id}`} value={user.role} disabled={self || action.busy} onChange={(e) => void change({ role: e.target.value as Role })}>
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </td>
        <td>{user.disabled ? <Pill value="disabled" /> : <Pill value="ACTIVE" />}</td>
        <td>{formatDateTime(user.createdAt)}</td>
        <td className="actions">
          {self ? (
            <span className="muted">you</span>
          ) : (
            <>
              <button type="button" disabled={action.busy} onClick={() => void change({ disabled: !user.disabled })}>
                {user.disabled ? 'Enable' : 'Disable'}
                <span className="visually-hidden"> {user.email}</span>
              </button>
              {confirm ? (
                <>
                  <button type="button" className="button-danger" onClick={() => void remove()}>
                    Delete {user.email}
                  </button>
                  <button type="button" onClick={() => setConfirm(false)}>
                    Keep
                  </button>
                </>
              ) : (
                <button type="button" onClick={() => setConfirm(true)} aria-label={`Delete ${user.email}`}>
                  Delete
                </button>
              )}
            </>
          )}
        </td>
      </tr>
      {action.error ? (
        <tr>
          <td colSpan={6}>
            <ErrorBanner error={action.error} onDismiss={action.clear} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

export default function Users() {
  const session = useSession();
  const load = useCallback(() => usersApi.list(), []);
  const users = useLoad(load);
  const action = useAction();
  const [form, setForm] = useState({ name: '', email: '', role: 'agent' as Role, password: '' });
  const [created, setCreated] = useState<string>();
  const passwordShort = form.password.length > 0 && form.password.length < 12;

  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (passwordShort) return;
    const user = await action.run(() => usersApi.create({ ...form, email: form.email.trim(), name: form.name.trim() }));
    if (user) {
      setCreated(user.email);
      setForm({ name: '', email: '', role: 'agent', password: '' });
      users.reload();
    }
  };

  return (
    <section className="page">
      <PageHeader title="Users and roles" />
      <ErrorBanner error={users.error} />
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Console users</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">State</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(users.data?.users ?? []).map((u) => (
              <UserRow key={u.id} user={u} self={u.id === session.user.id} onChanged={users.reload} />
            ))}
          </tbody>
        </table>
      </div>
      <form className="panel form-grid" onSubmit={(e) => void create(e)} aria-labelledby="new-user-title">
        <h2 id="new-user-title" className="form-title">
          Add a user
        </h2>
        <ErrorBanner error={action.error} onDismiss={action.clear} />
        {created ? (
          <div className="banner banner-info" role="status">
            {created} can now sign in.
          </div>
        ) : null}
        <label className="field">
          <span>Name</span>
          <input value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} required autoComplete="off" />
        </label>
        <label className="field">
          <span>Email</span>
          <input type="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} required autoComplete="off" />
        </label>
        <div className="field">
          <label htmlFor="new-user-role">Role</label>
          <select
            id="new-user-role"
            value={form.role}
            onChange={(e) => setForm({ ...form, role: e.target.value as Role })}
            aria-describedby="role-help"
          >
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
          <span className="hint" id="role-help">
            {ROLE_TEXT[form.role]}
          </span>
        </div>
        <div className="field">
          <label htmlFor="new-user-password">Password</label>
          <input
            id="new-user-password"
            type="password"
            value={form.password}
            onChange={(e) => setForm({ ...form, password: e.target.value })}
            required
            minLength={12}
            autoComplete="new-password"
            aria-invalid={passwordShort}
            aria-describedby="password-help"
          />
          <span className={passwordShort ? 'field-error' : 'hint'} id="password-help">
            At least 12 characters.
          </span>
        </div>
        <div className="form-actions">
          <button type="submit" className="button-primary" disabled={action.busy}>
            Add user
          </button>
        </div>
      </form>
    </section>
  );
}
