import {
  ActionIcon,
  AppShell,
  Badge,
  Box,
  Burger,
  Group,
  Menu,
  NavLink,
  ScrollArea,
  Stack,
  Text,
  Tooltip,
  UnstyledButton,
  useComputedColorScheme,
  useMantineColorScheme,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import {
  IconApi,
  IconChevronDown,
  IconLogout,
  IconLogout2,
  IconMoon,
  IconSun,
  IconUserCircle,
} from '@tabler/icons-react';
import { Suspense, useEffect, useMemo } from 'react';
import { Link, Outlet, useLocation, useNavigate } from 'react-router-dom';
import { useConfirm } from '../components/confirm-dialog.tsx';
import { notifyError, notifySuccess } from '../components/notify.ts';
import { ROLE_COLORS, ROLE_LABELS } from '../features/identity/api.ts';
import { UserAvatar } from '../features/identity/user-avatar.tsx';
import { useAuth, useUser } from './auth.tsx';
import { Logo } from './logo.tsx';
import { PageLoader } from './page-states.tsx';
import { NAV_GROUPS, pages, type PageDef } from './routes.tsx';

export function Shell() {
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();

  // On small screens the navbar is a drawer: close it after navigating.
  useEffect(() => close(), [location.pathname, close]);

  return (
    <AppShell
      header={{ height: 58 }}
      navbar={{ width: 248, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="lg"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <UnstyledButton component={Link} to="/" aria-label="Aula home">
              <Logo />
            </UnstyledButton>
          </Group>
          <Group gap="xs" wrap="nowrap">
            <ColorSchemeToggle />
            <UserMenu />
          </Group>
        </Group>
      </AppShell.Header>

      <AppShell.Navbar p="sm">
        <Navigation />
      </AppShell.Navbar>

      <AppShell.Main bg="var(--aula-main-bg)">
        <Box maw={1320} mx="auto">
          <Suspense fallback={<PageLoader />}>
            <Outlet />
          </Suspense>
        </Box>
      </AppShell.Main>
    </AppShell>
  );
}

function matches(path: string, pathname: string): boolean {
  if (path === '/') return pathname === '/';
  return pathname === path || pathname.startsWith(path + '/');
}

/** The one entry to highlight: the most specific match, so /lab/ledger is not also "Analysis lab". */
function activePath(visible: PageDef[], pathname: string): string | undefined {
  let best: string | undefined;
  for (const p of visible) if (matches(p.path, pathname) && (!best || p.path.length > best.length)) best = p.path;
  return best;
}

function Navigation() {
  const user = useUser();
  const { pathname } = useLocation();
  const groups = useMemo(() => {
    const visible = pages.filter((p) => p.nav !== false && p.roles.includes(user.role));
    const names = [...NAV_GROUPS, ...new Set(visible.map((p) => p.group ?? 'More'))].filter(
      (g, i, all) => all.indexOf(g) === i,
    );
    return names
      .map((name) => ({ name, items: visible.filter((p) => (p.group ?? 'More') === name) }))
      .filter((g) => g.items.length > 0);
  }, [user.role]);
  const active = activePath(
    groups.flatMap((g) => g.items),
    pathname,
  );

  return (
    <>
      <AppShell.Section grow component={ScrollArea} type="scroll">
        <Stack gap="md" component="nav" aria-label="Main">
          {groups.map((g) => (
            <Box key={g.name}>
              {g.name !== 'Overview' && (
                <Text size="xs" fw={700} c="dimmed" tt="uppercase" px="sm" mb={4} style={{ letterSpacing: 0.6 }}>
                  {g.name}
                </Text>
              )}
              {g.items.map((p) => (
                <NavLink
                  key={p.path}
                  component={Link}
                  to={p.path}
                  label={p.label}
                  leftSection={<p.icon size={19} stroke={1.6} />}
                  active={p.path === active}
                  variant="light"
                  style={{ borderRadius: 'var(--mantine-radius-md)' }}
                  fw={500}
                />
              ))}
            </Box>
          ))}
        </Stack>
      </AppShell.Section>
      <AppShell.Section>
        {user.role === 'admin' && (
          <NavLink
            component="a"
            href="/docs"
            target="_blank"
            rel="noreferrer"
            label="API reference"
            leftSection={<IconApi size={19} stroke={1.6} />}
            style={{ borderRadius: 'var(--mantine-radius-md)' }}
            c="dimmed"
          />
        )}
      </AppShell.Section>
    </>
  );
}

function ColorSchemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const computed = useComputedColorScheme('light', { getInitialValueInEffect: false });
  const next = computed === 'dark' ? 'light' : 'dark';
  return (
    <Tooltip label={next === 'dark' ? 'Dark theme' : 'Light theme'}>
      <ActionIcon
        variant="default"
        size="lg"
        radius="md"
        aria-label={`Switch to ${next} theme`}
        onClick={() => setColorScheme(next)}
      >
        {computed === 'dark' ? <IconSun size={18} stroke={1.6} /> : <IconMoon size={18} stroke={1.6} />}
      </ActionIcon>
    </Tooltip>
  );
}

function UserMenu() {
  const user = useUser();
  const { signOut, signOutEverywhere } = useAuth();
  const navigate = useNavigate();
  const [dialog, confirm] = useConfirm();

  return (
    <>
      {dialog}
      <Menu position="bottom-end" width={240} shadow="md" withinPortal>
        <Menu.Target>
          <UnstyledButton aria-label="Account menu" data-testid="user-menu" px={6} py={4} style={{ borderRadius: 8 }}>
            <Group gap={8} wrap="nowrap">
              <UserAvatar user={user} size={32} radius="xl" />
              <Box visibleFrom="xs" style={{ lineHeight: 1.15 }}>
                <Text size="sm" fw={600} lineClamp={1} maw={180}>
                  {user.fullName}
                </Text>
                <Text size="xs" c="dimmed">
                  {ROLE_LABELS[user.role]}
                </Text>
              </Box>
              <IconChevronDown size={14} stroke={1.6} />
            </Group>
          </UnstyledButton>
        </Menu.Target>
        <Menu.Dropdown>
          <Menu.Label>
            <Group justify="space-between" wrap="nowrap">
              <Text size="xs" truncate>
                @{user.username}
              </Text>
              <Badge size="xs" variant="light" color={ROLE_COLORS[user.role]}>
                {user.role}
              </Badge>
            </Group>
          </Menu.Label>
          <Menu.Item leftSection={<IconUserCircle size={16} />} onClick={() => void navigate('/profile')}>
            Profile
          </Menu.Item>
          <Menu.Divider />
          <Menu.Item
            leftSection={<IconLogout size={16} />}
            onClick={() => {
              signOut().then(
                () => void navigate('/sign-in', { replace: true }),
                (err: unknown) => notifyError(err, 'Could not sign out'),
              );
            }}
          >
            Sign out
          </Menu.Item>
          <Menu.Item
            color="red"
            leftSection={<IconLogout2 size={16} />}
            onClick={() =>
              confirm({
                title: 'Sign out everywhere?',
                message:
                  'This ends every session of your account, on this and all other devices. API tokens are not affected.',
                confirmLabel: 'Sign out everywhere',
                danger: true,
                onConfirm: async () => {
                  const n = await signOutEverywhere();
                  notifySuccess(`Ended ${n} session${n === 1 ? '' : 's'}`, 'Signed out everywhere');
                  await navigate('/sign-in', { replace: true });
                },
              })
            }
          >
            Sign out everywhere
          </Menu.Item>
        </Menu.Dropdown>
      </Menu>
    </>
  );
}
