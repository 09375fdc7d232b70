// The signed-in frame: navigation (only what the role may open), the channel picker, the
// user and sign-out, and the page.

import { Suspense, useEffect, useRef, useState, type RefObject } from 'react';
import { NavLink, Outlet } from 'react-router';
import type { Permission } from '../api/types';
import { SimEventsProvider, useSimConnected } from '../events';
import { useCan, useSession, useSessionState } from '../session';
import { WorkspaceProvider, useWorkspace } from '../workspace';

export interface NavItem {
  to: string;
  label: string;
  permission: Permission;
}

export const NAV: NavItem[] = [
  { to: '/phones', label: 'Phones', permission: 'simulator.use' },
  { to: '/simulator', label: 'Simulator', permission: 'simulator.control' },
  { to: '/templates', label: 'Templates', permission: 'templates.read' },
  { to: '/logs', label: 'Logs', permission: 'logs.read' },
  { to: '/webhooks', label: 'Webhooks', permission: 'webhooks.read' },
  { to: '/keys', label: 'API keys', permission: 'keys.manage' },
  { to: '/users', label: 'Users', permission: 'users.manage' },
];

function ChannelPicker() {
  const ws = useWorkspace();
  if (ws.choices.length <= 1) {
    return ws.businessNumber ? (
      <span className="channel-label" title={`Subaccount ${ws.subAccountId}`}>
        {ws.businessNumber}
      </span>
    ) : null;
  }
  return (
    <label className="channel-picker">
      <span className="visually-hidden">WhatsApp channel</span>
      <select value={ws.channelId} onChange={(e) => ws.choose(e.target.value)}>
        {ws.choices.map((c) => (
          <option key={c.channelId} value={c.channelId}>
            {c.businessNumber} · {c.subAccountId}
          </option>
        ))}
      </select>
    </label>
  );
}

function LiveDot() {
  const connected = useSimConnected();
  return (
    <span className={`live-dot ${connected ? 'on' : ''}`} role="status" title={connected ? 'Live updates on' : 'Live updates off'}>
      <span className="visually-hidden">{connected ? 'Live updates on' : 'Live updates off'}</span>
    </span>
  );
}

/**
 * The navigation drawer of narrow screens: opening it moves the focus to its first link,
 * Escape closes it, and closing it gives the focus back to its toggle (when the focus was
 * in the drawer, which hides: not when the person already went elsewhere).
 */
function useDrawerFocus(
  open: boolean,
  setOpen: (open: boolean) => void,
  drawer: RefObject<HTMLElement | null>,
  toggle: RefObject<HTMLElement | null>,
) {
  useEffect(() => {
    if (!open) return;
    const nav = drawer.current;
    const button = toggle.current;
    nav?.querySelector<HTMLElement>('a[href]')?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented) return;
      e.preventDefault();
      setOpen(false);
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      const focused = document.activeElement;
      if (!focused || focused === document.body || nav?.contains(focused)) button?.focus();
    };
  }, [open, setOpen, drawer, toggle]);
}

export function Shell() {
  const session = useSession();
  const can = useCan();
  const { signOut } = useSessionState();
  const [open, setOpen] = useState(false);
  const toggle = useRef<HTMLButtonElement>(null);
  const drawer = useRef<HTMLElement>(null);
  useDrawerFocus(open, setOpen, drawer, toggle);
  const items = NAV.filter((n) => can(n.permission));
  const simulator = can('simulator.use') || can('simulator.control');
  return (
    <SimEventsProvider enabled={simulator}>
      <WorkspaceProvider>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <div className="shell">
          <header className="topbar">
            <button
              ref={toggle}
              type="button"
              className="menu-toggle"
              aria-expanded={open}
              aria-controls="nav"
              onClick={() => setOpen((o) => !o)}
            >
              <span aria-hidden="true">☰</span>
              <span className="visually-hidden">Menu</span>
            </button>
            <span className="brand">
              <span className="brand-mark" aria-hidden="true">
                P
              </span>
              Parley
            </span>
            <ChannelPicker />
            <span className="spacer" />
            {simulator ? <LiveDot /> : null}
            <span className="user" title={session.user.email}>
              {session.user.name || session.user.email} <span className="role">{session.user.role}</span>
            </span>
            <button type="button" className="button-quiet" onClick={() => void signOut()}>
              Sign out
            </button>
          </header>
          <nav id="nav" ref={drawer} className={`sidenav ${open ? 'open' : ''}`} aria-label="Main">
            <ul>
              {items.map((n) => (
                <li key={n.to}>
                  <NavLink to={n.to} onClick={() => setOpen(false)}>
                    {n.label}
                  </NavLink>
                </li>
              ))}
            </ul>
          </nav>
          <main id="main" className="content" tabIndex={-1}>
            <Suspense
              fallback={
                <div className="page" role="status">
                  Loading…
                </div>
              }
            >
              <Outlet />
            </Suspense>
          </main>
        </div>
      </WorkspaceProvider>
    </SimEventsProvider>
  );
}
