// Console users and their roles (admins only): create, rename, change role, reset the
// password, disable, delete.

import { useCallback, useState, type FormEvent, type ReactNode } from 'react';
import { usersApi } from '../api/endpoints';
import { ROLES, type ConsoleUser, type Role } from '../api/types';
import { Dialog } from '../components/Dialog';
import { ErrorBanner, Field, Notice, PageHeader, Pill } from '../components/ui';
import { formatDateTime, useAction, useLoad } from '../hooks';
import { useSession } from '../session';

const ROLE_TEXT: Record<Role, string> = {
  admin: 'everything, including users and API keys',
  supervisor: 'templates, webhooks, logs, sending and the simulator',
  agent: 'phones, sending and logs',
  analyst: 'logs, exports, templates and webhooks, read only',
};

/** The server's rules (crates/core/src/console): it counts characters, not UTF-16 units. */
const MIN_PASSWORD_CHARS = 12;
const MAX_NAME_CHARS = 100;
const chars = (s: string) => Array.from(s).length;
const tooShort = (password: string) => chars(password) < MIN_PASSWORD_CHARS;

/**
 * A new password, with the length rule shown: as an error once something too short is
 * typed, or when `checked` (the form was submitted) and it is still too short.
 */
function PasswordField({
  id,
  label,
  value,
  onChange,
  checked = false,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  checked?: boolean;
}) {
  const wrong = (checked || value.length > 0) && tooShort(value);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="password"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        required
        minLength={MIN_PASSWORD_CHARS}
        autoComplete="new-password"
        aria-invalid={wrong}
        aria-describedby={`${id}-help`}
      />
      <span className={wrong ? 'field-error' : 'hint'} id={`${id}-help`}>
        At least {MIN_PASSWORD_CHARS} characters.
      </span>
    </div>
  );
}

/** A dialog's form: its fields, the server's error, Cancel and the submit button. */
function DialogForm({
  title,
  submit,
  onSubmit,
  onClose,
  busy,
  error,
  children,
}: {
  title: string;
  /** The submit button's text. */
  submit: string;
  onSubmit: () => void;
  onClose: () => void;
  busy: boolean;
  error: string | undefined;
  children: ReactNode;
}) {
  return (
    <Dialog title={title} onClose={onClose}>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          onSubmit();
        }}
      >
        <ErrorBanner error={error} />
        {children}
        <div className="form-actions dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button-primary" disabled={busy}>
            {submit}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function RenameDialog({ user, onClose, onRenamed }: { user: ConsoleUser; onClose: () => void; onRenamed: (user: ConsoleUser) => void }) {
  const action = useAction();
  const [name, setName] = useState(user.name);
  const [submitted, setSubmitted] = useState(false);
  const problem = !name.trim() ? 'A name is required.' : chars(name.trim()) > MAX_NAME_CHARS ? `At most ${MAX_NAME_CHARS} characters.` : undefined;
  const save = async () => {
    setSubmitted(true);
    if (problem) return;
    const renamed = await action.run(() => usersApi.update(user.id, { name: name.trim() }));
    if (renamed) onRenamed(renamed);
  };
  return (
    <DialogForm title={`Rename ${user.email}`} submit="Rename" onSubmit={() => void save()} onClose={onClose} busy={action.busy} error={action.error}>
      <Field id="rename-name" label="Name" error={submitted || name !== user.name ? problem : undefined}>
        {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} required autoComplete="off" />}
      </Field>
    </DialogForm>
  );
}

function ResetPasswordDialog({ user, onClose, onReset }: { user: ConsoleUser; onClose: () => void; onReset: () => void }) {
  const action = useAction();
  const [password, setPassword] = useState('');
  const [submitted, setSubmitted] = useState(false);
  const save = async () => {
    setSubmitted(true);
    if (tooShort(password)) return;
    if (await action.run(() => usersApi.update(user.id, { password }))) onReset();
  };
  return (
    <DialogForm
      title={`Reset the password of ${user.email}`}
      submit="Set password"
      onSubmit={() => void save()}
      onClose={onClose}
      busy={action.busy}
      error={action.error}
    >
      <PasswordField id="reset-password" label="New password" value={password} onChange={setPassword} checked={submitted} />
      {/* The server ends the user's sessions when their password changes. */}
      <p className="hint">{user.name} is signed out everywhere and signs in again with this password. Parley sends no email: tell them yourself.</p>
    </DialogForm>
  );
}

type RowDialog = 'rename' | 'password';

function UserRow({
  user,
  self,
  onChanged,
}: {
  user: ConsoleUser;
  self: boolean;
  /** Something changed: read the users again; `notice` says what, for the page to show. */
  onChanged: (notice?: string) => void;
}) {
  const action = useAction();
  const [confirm, setConfirm] = useState(false);
  const [dialog, setDialog] = useState<RowDialog>();
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
          <button type="button" onClick={() => setDialog('rename')} aria-label={`Rename ${user.email}`}>
            Rename
          </button>
          {self ? (
            <span className="muted">you</span>
          ) : (
            <>
              <button type="button" onClick={() => setDialog('password')} aria-label={`Reset the password of ${user.email}`}>
                Reset password
              </button>
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
          {/* Modal: drawn above the page, whatever the cell it belongs to. */}
          {dialog === 'rename' ? (
            <RenameDialog
              user={user}
              onClose={() => setDialog(undefined)}
              onRenamed={(renamed) => {
                setDialog(undefined);
                onChanged(`${renamed.email} is now called ${renamed.name}.`);
              }}
            />
          ) : null}
          {dialog === 'password' ? (
            <ResetPasswordDialog
              user={user}
              onClose={() => setDialog(undefined)}
              onReset={() => {
                setDialog(undefined);
                onChanged(`${user.email} has a new password and was signed out.`);
              }}
            />
          ) : null}
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
  const [notice, setNotice] = useState<string>();
  const reload = users.reload;
  const changed = useCallback(
    (what?: string) => {
      setNotice(what);
      reload();
    },
    [reload],
  );

  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (tooShort(form.password)) return;
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
      {notice ? <Notice>{notice}</Notice> : null}
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
              <UserRow key={u.id} user={u} self={u.id === session.user.id} onChanged={changed} />
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
        <PasswordField id="new-user-password" label="Password" value={form.password} onChange={(password) => setForm({ ...form, password })} />
        <div className="form-actions">
          <button type="submit" className="button-primary" disabled={action.busy}>
            Add user
          </button>
        </div>
      </form>
    </section>
  );
}
