import { ActionIcon, Badge, Button, Group, Menu, Select, Text } from '@mantine/core';
import {
  IconChalkboard,
  IconDots,
  IconExternalLink,
  IconPencil,
  IconPlus,
  IconTrash,
  IconUsers,
} from '@tabler/icons-react';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { useUser } from '../../app/auth.tsx';
import { useConfirm } from '../../components/confirm-dialog.tsx';
import { columnHelper, DataTable, listParams, useServerQuery } from '../../components/data-table.tsx';
import { notifySuccess } from '../../components/notify.ts';
import { PageHeader } from '../../components/page-header.tsx';
import { UserPicker } from '../identity/user-picker.tsx';
import { academicsApi, scheduleSummary, type Offering } from './api.ts';
import { OfferingModal, useCourseOptions, useSemesterOptions } from './offering-modal.tsx';

const col = columnHelper<Offering>();

export function OfferingsPage() {
  const me = useUser();
  const isAdmin = me.role === 'admin';
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [query, setQuery] = useServerQuery({ sort: 'course', order: 'asc' });
  const [semesterId, setSemesterId] = useState<string | null>(null);
  const [courseId, setCourseId] = useState<string | null>(null);
  const [teacherId, setTeacherId] = useState<string | null>(null);
  const [editing, setEditing] = useState<Offering | null>(null);
  const [creating, setCreating] = useState(false);
  const [dialog, confirm] = useConfirm();
  const courses = useCourseOptions();
  const semesters = useSemesterOptions();

  const filters = {
    semesterId: semesterId ?? undefined,
    courseId: courseId ?? undefined,
    teacherId: teacherId ?? undefined,
  };
  const offerings = useQuery({
    queryKey: ['offerings', 'list', query, filters],
    queryFn: ({ signal }) => academicsApi.listOfferings({ ...listParams(query), ...filters }, signal),
    placeholderData: keepPreviousData,
  });

  const columns = useMemo(
    () =>
      col.columns([
        col.accessor('courseCode', {
          header: 'Course',
          meta: { sortKey: 'course' },
          cell: (info) => {
            const o = info.row.original;
            return (
              <div>
                <Group gap={6} wrap="nowrap">
                  <Text size="sm" fw={650} ff="monospace">
                    {o.courseCode}
                  </Text>
                  <Badge size="xs" variant="outline" color="gray">
                    Sec. {o.section}
                  </Badge>
                </Group>
                <Text size="sm">{o.courseName}</Text>
              </div>
            );
          },
        }),
        col.accessor('semesterCode', { header: 'Semester', meta: { sortKey: 'semester' } }),
        col.accessor('teacherName', {
          header: 'Teacher',
          meta: { sortKey: 'teacher' },
          cell: (info) =>
            info.getValue() ?? (
              <Text size="sm" c="dimmed">
                Unassigned
              </Text>
            ),
        }),
        col.accessor('room', {
          header: 'Room',
          meta: { sortKey: 'room' },
          cell: (info) => info.getValue() ?? <Text c="dimmed">—</Text>,
        }),
        col.accessor((o) => scheduleSummary(o.schedule), {
          id: 'schedule',
          header: 'Schedule',
          enableSorting: false,
          cell: (info) => (
            <Text size="sm" c={info.row.original.schedule.length ? undefined : 'dimmed'}>
              {info.getValue()}
            </Text>
          ),
        }),
        col.accessor('enrolledCount', {
          header: 'Students',
          enableSorting: false,
          meta: { align: 'right' },
          cell: (info) => (
            <Group gap={4} justify="flex-end" wrap="nowrap">
              <IconUsers size={14} opacity={0.6} />
              <Text size="sm" className="aula-tabular">
                {info.getValue()}
              </Text>
            </Group>
          ),
        }),
        col.display({
          id: 'actions',
          header: '',
          meta: { align: 'right', width: 56 },
          cell: (info) => {
            const o = info.row.original;
            return (
              <div onClick={(e) => e.stopPropagation()}>
                <Menu position="bottom-end" withinPortal>
                  <Menu.Target>
                    <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${o.courseCode} ${o.section}`}>
                      <IconDots size={18} />
                    </ActionIcon>
                  </Menu.Target>
                  <Menu.Dropdown>
                    <Menu.Item
                      leftSection={<IconExternalLink size={16} />}
                      onClick={() => void navigate(`/offerings/${o.id}`)}
                    >
                      Open
                    </Menu.Item>
                    {isAdmin && (
                      <>
                        <Menu.Item leftSection={<IconPencil size={16} />} onClick={() => setEditing(o)}>
                          Edit
                        </Menu.Item>
                        <Menu.Divider />
                        <Menu.Item
                          color="red"
                          leftSection={<IconTrash size={16} />}
                          onClick={() =>
                            confirm({
                              title: `Delete ${o.courseCode} section ${o.section}?`,
                              message: `The offering in ${o.semesterCode}, with its ${o.enrolledCount} enrollments and its class sessions, is removed.`,
                              confirmLabel: 'Delete offering',
                              danger: true,
                              onConfirm: async () => {
                                await academicsApi.deleteOffering(o.id);
                                notifySuccess(`${o.courseCode} section ${o.section} was deleted`);
                                await qc.invalidateQueries({ queryKey: ['offerings'] });
                              },
                            })
                          }
                        >
                          Delete
                        </Menu.Item>
                      </>
                    )}
                  </Menu.Dropdown>
                </Menu>
              </div>
            );
          },
        }),
      ]),
    [confirm, isAdmin, navigate, qc],
  );

  const setFilter = (set: (v: string | null) => void) => (v: string | null) => {
    set(v);
    setQuery((q) => ({ ...q, offset: 0 }));
  };

  return (
    <>
      <PageHeader
        title={isAdmin ? 'Offerings' : 'My classes'}
        description={
          isAdmin
            ? 'Courses taught in a semester: teacher, room, weekly schedule and roster.'
            : 'The offerings you teach. Open one to see its roster and class sessions.'
        }
        actions={
          isAdmin ? (
            <Button leftSection={<IconPlus size={18} />} onClick={() => setCreating(true)}>
              New offering
            </Button>
          ) : undefined
        }
      />
      <DataTable
        mode="server"
        label="Offerings"
        columns={columns}
        data={offerings.data?.items ?? NONE}
        total={offerings.data?.total ?? 0}
        query={query}
        onQueryChange={setQuery}
        loading={offerings.isPending}
        fetching={offerings.isFetching}
        error={offerings.error}
        getRowId={(o) => o.id}
        onRowClick={(o) => void navigate(`/offerings/${o.id}`)}
        searchPlaceholder="Search course, teacher or room"
        emptyIcon={<IconChalkboard size={22} stroke={1.5} />}
        emptyTitle={isAdmin ? 'No offerings yet' : 'You are not teaching any offering'}
        emptyDescription={isAdmin ? 'Create one to give a course a teacher, a schedule and students.' : undefined}
        minWidth={960}
        toolbar={
          <>
            <Select
              aria-label="Semester"
              placeholder="All semesters"
              data={semesters.options}
              value={semesterId}
              onChange={setFilter(setSemesterId)}
              clearable
              w={200}
            />
            <Select
              aria-label="Course"
              placeholder="All courses"
              data={courses.options}
              value={courseId}
              onChange={setFilter(setCourseId)}
              clearable
              searchable
              w={240}
            />
            {isAdmin && (
              <UserPicker
                aria-label="Teacher"
                role="teacher"
                placeholder="All teachers"
                value={teacherId}
                onChange={setFilter(setTeacherId)}
                w={220}
              />
            )}
          </>
        }
      />
      <OfferingModal
        opened={creating || !!editing}
        offering={editing}
        onClose={() => (setCreating(false), setEditing(null))}
        onSaved={(o) => {
          if (creating) void navigate(`/offerings/${o.id}`);
        }}
      />
      {dialog}
    </>
  );
}

const NONE: Offering[] = [];
