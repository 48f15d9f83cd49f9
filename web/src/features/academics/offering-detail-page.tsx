import { Badge, Button, Card, Group, SimpleGrid, Skeleton, Stack, Tabs, Text, ThemeIcon } from '@mantine/core';
import {
  IconCalendarEvent,
  IconChartBar,
  IconClockHour4,
  IconDoor,
  IconPencil,
  IconSchool,
  IconUser,
  IconUsers,
} from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { useUser } from '../../app/auth.tsx';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { PageHeader } from '../../components/page-header.tsx';
import { academicsApi, DAY_NAMES } from './api.ts';
import { EnrollmentsTab } from './enrollments-tab.tsx';
import { OfferingModal, useSemesterOptions } from './offering-modal.tsx';
import { SessionsTab } from './sessions-tab.tsx';

export function OfferingDetailPage() {
  const { id = '' } = useParams();
  const me = useUser();
  const [params, setParams] = useSearchParams();
  const [editing, setEditing] = useState(false);
  const offering = useQuery({ queryKey: ['offerings', 'one', id], queryFn: () => academicsApi.getOffering(id) });
  const semesters = useSemesterOptions();

  const isAdmin = me.role === 'admin';
  const o = offering.data;
  const teaches = !!o && o.teacherId === me.id;
  const canSeeRoster = isAdmin || teaches;
  const tab = params.get('tab') ?? (canSeeRoster ? 'students' : 'sessions');
  const semester = o ? (semesters.data?.items.find((s) => s.id === o.semesterId) ?? null) : null;

  const crumbs = [
    me.role === 'student' ? { label: 'My courses', to: '/my-courses' } : { label: 'Offerings', to: '/offerings' },
    { label: o ? `${o.courseCode} · ${o.section}` : '…' },
  ];

  if (offering.error) {
    return (
      <>
        <PageHeader title="Offering" breadcrumbs={crumbs} />
        <ErrorAlert error={offering.error} />
      </>
    );
  }

  if (!o) {
    return (
      <Stack>
        <Skeleton height={28} width={320} />
        <Skeleton height={16} width={480} />
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
          {[0, 1, 2, 3].map((i) => (
            <Skeleton key={i} height={76} />
          ))}
        </SimpleGrid>
        <Skeleton height={320} />
      </Stack>
    );
  }

  return (
    <>
      <PageHeader
        breadcrumbs={crumbs}
        title={
          <>
            <Text span ff="monospace" fw={750} fz={26} mr={10}>
              {o.courseCode}
            </Text>
            {o.courseName}
          </>
        }
        badges={
          <>
            <Badge variant="light" size="lg" radius="sm">
              Section {o.section}
            </Badge>
            <Badge variant="outline" color="gray" size="lg" radius="sm">
              {o.semesterCode}
            </Badge>
          </>
        }
        actions={
          isAdmin || teaches ? (
            <>
              <Button
                component={Link}
                to={`/offerings/${o.id}/attendance`}
                variant="default"
                leftSection={<IconChartBar size={17} />}
              >
                Attendance report
              </Button>
              <Button variant="default" leftSection={<IconPencil size={17} />} onClick={() => setEditing(true)}>
                Edit offering
              </Button>
            </>
          ) : undefined
        }
      />

      <SimpleGrid cols={{ base: 1, xs: 2, lg: 4 }} mb="lg" spacing="md">
        <Fact icon={<IconUser size={18} />} label="Teacher" value={o.teacherName ?? 'Unassigned'} />
        <Fact icon={<IconDoor size={18} />} label="Room" value={o.room ?? '—'} />
        <Fact
          icon={<IconUsers size={18} />}
          label="Students"
          value={<span className="aula-tabular">{o.enrolledCount}</span>}
        />
        <Fact icon={<IconClockHour4 size={18} />} label="Late after" value={`${o.lateAfterMinutes} minutes`} />
      </SimpleGrid>

      <Card padding="md" radius="md" mb="lg">
        <Group gap="xs" mb={o.schedule.length ? 8 : 0}>
          <IconCalendarEvent size={18} opacity={0.7} />
          <Text fw={600} size="sm">
            Weekly schedule
          </Text>
          {o.schedule.length === 0 && (
            <Text size="sm" c="dimmed">
              — none yet{isAdmin || teaches ? ': edit the offering to add meetings' : ''}
            </Text>
          )}
        </Group>
        <Group gap="xs">
          {[...o.schedule]
            .sort((a, b) => a.day - b.day || a.start.localeCompare(b.start))
            .map((s, i) => (
              <Badge key={i} variant="default" size="lg" radius="sm" tt="none" fw={500}>
                {DAY_NAMES[s.day - 1]} {s.start}–{s.end}
              </Badge>
            ))}
        </Group>
      </Card>

      <Tabs value={tab} onChange={(t) => setParams(t ? { tab: t } : {}, { replace: true })} keepMounted={false}>
        <Tabs.List mb="md">
          {canSeeRoster && (
            <Tabs.Tab value="students" leftSection={<IconSchool size={16} />}>
              Students
            </Tabs.Tab>
          )}
          <Tabs.Tab value="sessions" leftSection={<IconCalendarEvent size={16} />}>
            Sessions
          </Tabs.Tab>
        </Tabs.List>
        {canSeeRoster && (
          <Tabs.Panel value="students">
            <EnrollmentsTab offering={o} canManage={isAdmin} />
          </Tabs.Panel>
        )}
        <Tabs.Panel value="sessions">
          <SessionsTab offering={o} semester={semester} canManage={isAdmin || teaches} />
        </Tabs.Panel>
      </Tabs>

      <OfferingModal opened={editing} offering={o} limited={!isAdmin} onClose={() => setEditing(false)} />
    </>
  );
}

function Fact({ icon, label, value }: { icon: ReactNode; label: string; value: ReactNode }) {
  return (
    <Card padding="md" radius="md" data-testid={`fact-${label.toLowerCase().replace(/\s+/g, '-')}`}>
      <Group gap="sm" wrap="nowrap">
        <ThemeIcon variant="light" size={38} radius="md">
          {icon}
        </ThemeIcon>
        <div style={{ minWidth: 0 }}>
          <Text size="xs" c="dimmed" tt="uppercase" fw={700} style={{ letterSpacing: 0.5 }}>
            {label}
          </Text>
          <Text fw={600} lineClamp={2} lh={1.35}>
            {value}
          </Text>
        </div>
      </Group>
    </Card>
  );
}
