import { StrictMode, lazy } from 'react';
import { createRoot } from 'react-dom/client';
import { Navigate, Outlet, createBrowserRouter, useRouteError } from 'react-router';
import { RouterProvider } from 'react-router/dom';
import { NAV, Shell } from './components/Shell';
import { RequirePermission, RequireSession, SessionProvider, useCan } from './session';
import SignIn from './pages/SignIn';
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
            {
              path: 'phones/:msisdn?',
              element: (
                <RequirePermission permission="simulator.use" what="the phones">
                  <Phones />
                </RequirePermission>
              ),
            },
            {
              path: 'simulator',
              element: (
                <RequirePermission permission="simulator.control" what="the simulator controls">
                  <Simulator />
                </RequirePermission>
              ),
            },
            {
              path: 'templates',
              element: (
                <RequirePermission permission="templates.read" what="templates">
                  <Templates />
                </RequirePermission>
              ),
            },
            {
              path: 'templates/new',
              element: (
                <RequirePermission permission="templates.write" what="the template editor">
                  <TemplateNew />
                </RequirePermission>
              ),
            },
            {
              path: 'logs',
              element: (
                <RequirePermission permission="logs.read" what="the message logs">
                  <Logs />
                </RequirePermission>
              ),
            },
            {
              path: 'logs/:subAccountId/:umid',
              element: (
                <RequirePermission permission="logs.read" what="the message logs">
                  <LogDetail />
                </RequirePermission>
              ),
            },
            {
              path: 'webhooks',
              element: (
                <RequirePermission permission="webhooks.read" what="webhooks">
                  <Webhooks />
                </RequirePermission>
              ),
            },
            {
              path: 'keys',
              element: (
                <RequirePermission permission="keys.manage" what="the API keys">
                  <ApiKeys />
                </RequirePermission>
              ),
            },
            {
              path: 'users',
              element: (
                <RequirePermission permission="users.manage" what="users and roles">
                  <Users />
                </RequirePermission>
              ),
            },
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
