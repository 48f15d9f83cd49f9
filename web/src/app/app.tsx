import '@mantine/core/styles.css';
import '@mantine/notifications/styles.css';
import '@mantine/dropzone/styles.css';
import '@mantine/charts/styles.css';
import './global.css';
import { AuthProvider } from './auth.tsx';
import { Providers } from './providers.tsx';
import { AppRouter } from './router.tsx';

export function App() {
  return (
    <Providers>
      <AuthProvider>
        <AppRouter />
      </AuthProvider>
    </Providers>
  );
}
