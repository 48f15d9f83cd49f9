import { createBrowserRouter, Navigate, RouterProvider, useLocation } from 'react-router-dom';
import type { ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { FaceSignInRoute } from '../features/faces/face-sign-in-page.tsx';
import { ForgotPasswordPage, ResetPasswordPage } from '../features/identity/password-reset-pages.tsx';
import { SignInPage } from '../features/identity/sign-in-page.tsx';
import { ME_KEY, useAuth } from './auth.tsx';
import { ConnectionProblem, ForbiddenPage, FullScreenLoader, NotFoundPage, RouteError } from './page-states.tsx';
import { pages, type Role } from './routes.tsx';
import { Shell } from './shell.tsx';

function RequireAuth({ children }: { children: ReactNode }) {
  const { user, error } = useAuth();
  const location = useLocation();
  const qc = useQueryClient();
  if (user === undefined && error) {
    return <ConnectionProblem error={error} onRetry={() => void qc.invalidateQueries({ queryKey: ME_KEY })} />;
  }
  if (user === undefined) return <FullScreenLoader />;
  if (user === null) {
    const next = location.pathname + location.search;
    return <Navigate to={next === '/' ? '/sign-in' : `/sign-in?next=${encodeURIComponent(next)}`} replace />;
  }
  return <>{children}</>;
}

function RoleGate({ roles, children }: { roles: Role[]; children: ReactNode }) {
  const { user } = useAuth();
  if (!user || !roles.includes(user.role)) return <ForbiddenPage />;
  return <>{children}</>;
}

function SignInRoute() {
  const { user } = useAuth();
  const location = useLocation();
  if (user) {
    const next = new URLSearchParams(location.search).get('next');
    // Only same-site paths: never send the user to another origin after signing in.
    const safe = next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
    return <Navigate to={safe} replace />;
  }
  if (user === undefined) return <FullScreenLoader />;
  return <SignInPage />;
}

const router = createBrowserRouter([
  { path: '/sign-in', element: <SignInRoute />, errorElement: <RouteError /> },
  { path: '/sign-in/face', element: <FaceSignInRoute />, errorElement: <RouteError /> },
  // Public: reachable signed out, and a reset link works even in a browser signed in as someone else.
  { path: '/forgot-password', element: <ForgotPasswordPage />, errorElement: <RouteError /> },
  { path: '/reset-password', element: <ResetPasswordPage />, errorElement: <RouteError /> },
  {
    element: (
      <RequireAuth>
        <Shell />
      </RequireAuth>
    ),
    errorElement: <RouteError />,
    children: [
      ...pages.map((p) => ({
        path: p.path,
        element: <RoleGate roles={p.roles}>{p.element}</RoleGate>,
        errorElement: <RouteError />,
      })),
      { path: '*', element: <NotFoundPage /> },
    ],
  },
]);

export function AppRouter() {
  return <RouterProvider router={router} />;
}
