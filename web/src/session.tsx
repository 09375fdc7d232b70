// The signed-in session: who is using the console, what they may do, and their account's
// subaccounts and channels. Any 401 from any call lands here and sends them to sign in.

import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { setCsrfToken, setSignedOutHandler } from './api/client';
import { sessionApi } from './api/endpoints';
import type { Permission, Session } from './api/types';

/** `out` with `chosen`: the person signed out (not sent back to where they were). */
type State = { status: 'loading' } | { status: 'out'; chosen?: boolean } | { status: 'in'; session: Session };

interface SessionContextValue {
  state: State;
  signIn: (email: string, password: string) => Promise<Session>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionContextValue | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<State>({ status: 'loading' });
  const navigate = useNavigate();
  const location = useLocation();
  const here = location.pathname + location.search;

  useEffect(() => {
    let live = true;
    sessionApi.current().then(
      (session) => {
        if (!live) return;
        setCsrfToken(session.csrfToken);
        setState({ status: 'in', session });
      },
      () => {
        if (live) setState({ status: 'out' });
      },
    );
    return () => {
      live = false;
    };
  }, []);

  useEffect(() => {
    setSignedOutHandler(() => {
      setCsrfToken(null);
      setState({ status: 'out' });
      if (!here.startsWith('/signin')) {
        void navigate(`/signin?next=${encodeURIComponent(here)}`, { replace: true });
      }
    });
    return () => setSignedOutHandler(null);
  }, [navigate, here]);

  const signIn = useCallback(async (email: string, password: string) => {
    const session = await sessionApi.signIn(email, password);
    setCsrfToken(session.csrfToken);
    setState({ status: 'in', session });
    return session;
  }, []);

  const signOut = useCallback(async (): Promise<void> => {
    try {
      await sessionApi.signOut();
    } finally {
      setCsrfToken(null);
      setState({ status: 'out', chosen: true });
    }
  }, []);

  const value = useMemo(() => ({ state, signIn, signOut }), [state, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSessionState(): SessionContextValue {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error('useSessionState outside SessionProvider');
  return ctx;
}

/** The session of a signed-in page (only rendered under <RequireSession>). */
export function useSession(): Session {
  const { state } = useSessionState();
  if (state.status !== 'in') throw new Error('useSession without a session');
  return state.session;
}

export function useCan(): (p: Permission) => boolean {
  const session = useSession();
  return useCallback((p: Permission) => session.permissions.includes(p), [session]);
}

export function RequireSession({ children }: { children: ReactNode }) {
  const { state } = useSessionState();
  const location = useLocation();
  if (state.status === 'loading') {
    return (
      <div className="center-screen" role="status" aria-live="polite">
        Loading…
      </div>
    );
  }
  if (state.status === 'out') {
    const next = location.pathname + location.search;
    const back = next === '/' || state.chosen ? '' : `?next=${encodeURIComponent(next)}`;
    return <Navigate to={`/signin${back}`} replace />;
  }
  return <>{children}</>;
}

export function Forbidden({ what }: { what: string }) {
  return (
    <section className="page" aria-labelledby="forbidden-title">
      <h1 id="forbidden-title">Not allowed</h1>
      <p>Your role may not open {what}. Ask an administrator if you need it.</p>
    </section>
  );
}

export function RequirePermission({ permission, what, children }: { permission: Permission; what: string; children: ReactNode }) {
  const can = useCan();
  return can(permission) ? <>{children}</> : <Forbidden what={what} />;
}
