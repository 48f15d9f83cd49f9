import { ActionIcon, Avatar, Button, Group, Modal, Stack, Text, Tooltip } from '@mantine/core';
import { IconFileImport, IconUserMinus, IconUserPlus, IconUsers } from '@tabler/icons-react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { useConfirm } from '../../components/confirm-dialog.tsx';
import { columnHelper, DataTable, listParams, useServerQuery } from '../../components/data-table.tsx';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { formatDate } from '../../components/format.ts';
import { notifySuccess } from '../../components/notify.ts';
import { UserPicker } from '../identity/user-picker.tsx';
import { academicsApi, type Enrollment, type Offering } from './api.ts';
import { RosterImport } from './roster-import.tsx';

const col = columnHelper<Enrollment>();

export function EnrollmentsTab({ offering, canManage }: { offering: Offering; canManage: boolean }) {
  const qc = useQueryClient();
  const [query, setQuery] = useServerQuery({ limit: 50, sort: 'fullName', order: 'asc' });
  const [importing, setImporting] = useState(false);
  const [adding, setAdding] = useState(false);
  const [dialog, confirm] = useConfirm();

  const enrollments = useQuery({
    queryKey: ['enrollments', offering.id, query],
    queryFn: ({ signal }) => academicsApi.listEnrollments(offering.id, listParams(query), signal),
    placeholderData: keepPreviousData,
  });

  const refresh = async () => {
    await Promise.all([
      qc.invalidateQueries({ queryKey: ['enrollments', offering.id] }),
      qc.invalidateQueries({ queryKey: ['offerings'] }),
    ]);
  };

  const columns = useMemo(
    () =>
      col.columns([
        col.accessor('fullName', {
          header: 'Student',
          cell: (info) => (
            <Group gap="sm" wrap="nowrap">
              <Avatar name={info.getValue()} color="initials" size={30} radius="xl" />
              <Text size="sm" fw={550}>
                {info.getValue()}
              </Text>
            </Group>
          ),
        }),
        col.accessor('studentCode', {
          header: 'Student code',
          cell: (info) => (
            <Text size="sm" ff="monospace">
              {info.getValue() ?? '—'}
            </Text>
          ),
        }),
        col.accessor('email', { header: 'Email', enableSorting: false }),
        col.accessor('enrolledAt', {
          header: 'Enrolled',
          cell: (info) => formatDate(info.getValue()),
        }),
        ...(canManage
          ? [
              col.display({
                id: 'actions',
                header: '',
                meta: { align: 'right', width: 56 },
                cell: (info) => {
                  const e = info.row.original;
                  return (
                    <Tooltip label="Remove from this offering">
                      <ActionIcon
                        variant="subtle"
                        color="red"
                        aria-label={`Remove ${e.fullName}`}
                        onClick={() =>
                          confirm({
                            title: `Remove ${e.fullName}?`,
                            message: `${e.fullName} will no longer be enrolled in ${offering.courseCode} section ${offering.section}. Their account stays.`,
                            confirmLabel: 'Remove',
                            danger: true,
                            onConfirm: async () => {
                              await academicsApi.unenroll(offering.id, e.studentId);
                              notifySuccess(`${e.fullName} was removed`);
                              await refresh();
                            },
                          })
                        }
                      >
                        <IconUserMinus size={17} />
                      </ActionIcon>
                    </Tooltip>
                  );
                },
              }),
            ]
          : []),
      ]),
    [canManage, confirm, offering.courseCode, offering.id, offering.section],
  );

  return (
    <>
      {importing && (
        <RosterImport
          offeringId={offering.id}
          onClose={() => setImporting(false)}
          onImported={(r) => {
            notifySuccess(`${r.rows} rows: ${r.enrolled} enrolled, ${r.created} new accounts`, 'Roster imported');
            void refresh();
          }}
        />
      )}
      <DataTable
        mode="server"
        label="Enrolled students"
        columns={columns}
        data={enrollments.data?.items ?? NONE}
        total={enrollments.data?.total ?? 0}
        query={query}
        onQueryChange={setQuery}
        loading={enrollments.isPending}
        fetching={enrollments.isFetching}
        error={enrollments.error}
        getRowId={(e) => e.id}
        searchPlaceholder="Search by name, code or email"
        emptyIcon={<IconUsers size={22} stroke={1.5} />}
        emptyTitle="No students enrolled yet"
        emptyDescription={canManage ? 'Import a roster CSV or add students one by one.' : undefined}
        minWidth={720}
        toolbar={
          canManage ? (
            <>
              <Button
                variant={importing ? 'filled' : 'light'}
                leftSection={<IconFileImport size={17} />}
                onClick={() => setImporting((v) => !v)}
              >
                Import roster
              </Button>
              <Button variant="default" leftSection={<IconUserPlus size={17} />} onClick={() => setAdding(true)}>
                Add student
              </Button>
            </>
          ) : undefined
        }
      />
      <AddStudentModal opened={adding} offering={offering} onClose={() => setAdding(false)} onAdded={refresh} />
      {dialog}
    </>
  );
}

const NONE: Enrollment[] = [];

function AddStudentModal(props: {
  opened: boolean;
  offering: Offering;
  onClose: () => void;
  onAdded: () => Promise<void>;
}) {
  const [studentId, setStudentId] = useState<string | null>(null);
  const add = useMutation({
    mutationFn: (id: string) => academicsApi.enroll(props.offering.id, id),
    onSuccess: async (e) => {
      notifySuccess(`${e.fullName} is now enrolled`);
      setStudentId(null);
      await props.onAdded();
      props.onClose();
    },
  });
  return (
    <Modal
      opened={props.opened}
      onClose={props.onClose}
      title={
        <Text fw={650}>
          Add a student to {props.offering.courseCode} · {props.offering.section}
        </Text>
      }
    >
      <Stack gap="sm">
        {add.error ? <ErrorAlert error={add.error} /> : null}
        <UserPicker
          label="Student"
          role="student"
          placeholder="Search by name, code or email"
          value={studentId}
          onChange={(id) => {
            add.reset();
            setStudentId(id);
          }}
          comboboxProps={{ withinPortal: true }}
          data-autofocus
        />
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={props.onClose}>
            Cancel
          </Button>
          <Button disabled={!studentId} loading={add.isPending} onClick={() => studentId && add.mutate(studentId)}>
            Enroll
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
