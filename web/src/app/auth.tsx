import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, type ReactNode } from 'react';
import type { Me, Role } from '../features/identity/api.ts';
import { ApiError, onUnauthorized, request } from './api.ts';

export const ME_KEY = ['auth', 'me'] as const;

interface AuthState {
  /** undefined while the first check runs; null when signed out. */
  user: Me | null | undefined;
  error: unknown;
  signIn(login: string, password: string): Promise<Me>;
  signOut(): Promise<void>;
  signOutEverywhere(): Promise<number>;
  /** Re-reads the signed-in user after a profile change. */
  refresh(): Promise<void>;
  setUser(user: Partial<Me>): void;
}

const AuthContext = createContext<AuthState | null>(null);

async function fetchMe(): Promise<Me | null> {
  try {
    return await request<Me>('GET', '/auth/me', { quiet401: true });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  const me = useQuery({ queryKey: ME_KEY, queryFn: fetchMe, staleTime: 5 * 60_000, retry: 1 });

  // Any 401 from the API means the session is gone: drop cached data and show the sign-in page.
  useEffect(
    () =>
      onUnauthorized(() => {
        qc.setQueryData(ME_KEY, null);
        qc.removeQueries({ predicate: (q) => q.queryKey[0] !== ME_KEY[0] });
      }),
    [qc],
  );

  const signedOut = useCallback(() => {
    qc.setQueryData(ME_KEY, null);
    qc.removeQueries({ predicate: (q) => q.queryKey[0] !== ME_KEY[0] });
  }, [qc]);

  const value = useMemo<AuthState>(
    () => ({
      user: me.data,
      error: me.error,
      async signIn(login, password) {
        const user = await request<Me>('POST', '/auth/login', { body: { login, password }, quiet401: true });
        qc.removeQueries({ predicate: (q) => q.queryKey[0] !== ME_KEY[0] });
        qc.setQueryData(ME_KEY, user);
        return user;
      },
      async signOut() {
        try {
          await request<void>('POST', '/auth/logout', { quiet401: true });
        } finally {
          signedOut();
        }
      },
      async signOutEverywhere() {
        const r = await request<{ sessions: number }>('POST', '/auth/logout-all');
        signedOut();
        return r.sessions;
      },
      async refresh() {
        await qc.invalidateQueries({ queryKey: ME_KEY });
      },
      setUser(patch) {
        qc.setQueryData<Me | null>(ME_KEY, (old) => (old ? { ...old, ...patch } : old));
      },
    }),
    [me.data, me.error, qc, signedOut],
  );

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error('useAuth must be used inside AuthProvider');
  return ctx;
}

/** The signed-in user, for pages rendered behind the sign-in gate. */
export function useUser(): Me {
  const { user } = useAuth();
  if (!user) throw new Error('useUser must be used on a signed-in page');
  return user;
}

export function hasRole(user: { role: Role } | null | undefined, roles: readonly Role[]): boolean {
  return !!user && roles.includes(user.role);
}
