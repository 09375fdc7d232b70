import { StrictMode, lazy, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { Navigate, Outlet, createBrowserRouter, useRouteError } from 'react-router';
import { RouterProvider } from 'react-router/dom';
import { NAV, Shell } from './components/Shell';
import { RequirePermission, RequireSession, SessionProvider, useCan } from './session';
import SignIn from './pages/SignIn';
import type { Permission } from './api/types';
import './styles.css';

const Phones = lazy(() => import('./pages/Phones'));
const Simulator = lazy(() => import('./pages/Simulator'));
const Templates = lazy(() => import('./pages/Templates'));
const TemplateNew = lazy(() => import('./pages/TemplateNew'));
const Logs = lazy(() => import('./pages/Logs'));
const LogDetail = lazy(() => import('./pages/LogDetail'));
const ApiKeys = lazy(() => import('./pages/ApiKeys'));
const Webhooks = lazy(() => import('./pages/Webhooks'));
const Users = lazy(() => import('./pages/Users'));

function Root() {
  return (
    <SessionProvider>
      <Outlet />
    </SessionProvider>
  );
}

/** `/`: the first page the role may open. */
function Home() {
  const can = useCan();
  const first = NAV.find((n) => can(n.permission));
  return first ? <Navigate to={first.to} replace /> : <p className="page">Your role has no pages.</p>;
}

function NotFound() {
  return (
    <section className="page">
      <h1>Page not found</h1>
      <p>There is no such page in the console.</p>
    </section>
  );
}

function Crash() {
  const error = useRouteError();
  return (
    <section className="page" role="alert">
      <h1>Something went wrong</h1>
      <p>{error instanceof Error ? error.message : 'The page failed to load.'}</p>
      <button type="button" onClick={() => window.location.reload()}>
        Reload
      </button>
    </section>
  );
}

/** The pages behind sign-in: path, the permission they need, how a refusal names them. */
const PAGES: [string, Permission, string, ReactNode][] = [
  ['phones/:msisdn?', 'simulator.use', 'the phones', <Phones />],
  ['simulator', 'simulator.control', 'the simulator controls', <Simulator />],
  ['templates', 'templates.read', 'templates', <Templates />],
  ['templates/new', 'templates.write', 'the template editor', <TemplateNew />],
  ['logs', 'logs.read', 'the message logs', <Logs />],
  ['logs/:subAccountId/:umid', 'logs.read', 'the message logs', <LogDetail />],
  ['webhooks', 'webhooks.read', 'webhooks', <Webhooks />],
  ['keys', 'keys.manage', 'the API keys', <ApiKeys />],
  ['users', 'users.manage', 'users and roles', <Users />],
];

const router = createBrowserRouter(
  [
    {
      element: <Root />,
      errorElement: <Crash />,
      children: [
        { path: 'signin', element: <SignIn /> },
        {
          element: (
            <RequireSession>
              <Shell />
            </RequireSession>
          ),
          errorElement: <Crash />,
          children: [
            { index: true, element: <Home /> },
            ...PAGES.map(([path, permission, what, page]) => ({
              path,
              element: (
                <RequirePermission permission={permission} what={what}>
                  {page}
                </RequirePermission>
              ),
            })),
            { path: '*', element: <NotFound /> },
          ],
        },
      ],
    },
  ],
  { basename: '/console' },
);

const root = document.getElementById('root');
if (!root) throw new Error('no #root element');
createRoot(root).render(
  <StrictMode>
    <RouterProvider router={router} />
  </StrictMode>,
);
