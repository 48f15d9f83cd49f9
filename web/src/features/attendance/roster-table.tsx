import { ActionIcon, Avatar, Badge, Group, Select, Table, Text, Tooltip } from '@mantine/core';
import { IconCheck, IconHandStop, IconX } from '@tabler/icons-react';
import { formatTime } from '../../components/format.ts';
import {
  attendanceApi,
  STATUS_COLOR,
  STATUS_LABEL,
  type AttendanceStatus,
  type Roster,
  type RosterEntry,
} from './api.ts';

interface RosterTableProps {
  roster: Roster;
  /** Busy student, while a change of theirs is being saved. */
  saving?: string | null;
  onStatus: (entry: RosterEntry, status: AttendanceStatus) => void;
  onConfirm: (entry: RosterEntry) => void;
  onReject: (entry: RosterEntry) => void;
}

const statusOptions = (Object.keys(STATUS_LABEL) as AttendanceStatus[]).map((s) => ({
  value: s,
  label: STATUS_LABEL[s],
}));

function minutesAfterStart(roster: Roster, iso: string | null): string {
  if (!iso) return '';
  const m = Math.round((Date.parse(iso) - Date.parse(roster.startsAt)) / 60_000);
  return m === 0 ? 'at the start' : m > 0 ? `+${m} min` : `${m} min`;
}

/** Every enrolled student: low-confidence matches first (the server's order), then by name. */
export function RosterTable({ roster, saving, onStatus, onConfirm, onReject }: RosterTableProps) {
  return (
    <Table.ScrollContainer minWidth={760}>
      <Table verticalSpacing="xs" highlightOnHover data-testid="roster">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Student</Table.Th>
            <Table.Th w={170}>Status</Table.Th>
            <Table.Th>First seen</Table.Th>
            <Table.Th>Confidence</Table.Th>
            <Table.Th>Hands raised</Table.Th>
            <Table.Th>Changed by</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {roster.items.map((e) => (
            <Table.Tr
              key={e.studentId}
              data-testid={`roster-row-${e.studentId}`}
              data-name={e.fullName}
              data-status={e.status ?? ''}
            >
              <Table.Td>
                <Group gap="sm" wrap="nowrap">
                  <Avatar
                    src={e.hasEvidence ? attendanceApi.evidenceUrl(roster.sessionId, e.studentId) : undefined}
                    alt={e.hasEvidence ? `Evidence of ${e.fullName}` : undefined}
                    radius="sm"
                    size={40}
                  >
                    {e.fullName.slice(0, 1)}
                  </Avatar>
                  <div>
                    <Text size="sm" fw={550}>
                      {e.fullName}
                    </Text>
                    <Text size="xs" c="dimmed" ff="monospace">
                      {e.studentCode ?? ''}
                    </Text>
                  </div>
                </Group>
              </Table.Td>
              <Table.Td>
                <Select
                  aria-label={`Status of ${e.fullName}`}
                  size="xs"
                  data={statusOptions}
                  value={e.status}
                  placeholder="Not seen yet"
                  allowDeselect={false}
                  disabled={saving === e.studentId}
                  onChange={(v) => v && v !== e.status && onStatus(e, v)}
                  leftSection={
                    e.status ? (
                      <Badge size="xs" circle color={STATUS_COLOR[e.status]}>
                        {' '}
                      </Badge>
                    ) : undefined
                  }
                />
                {e.source === 'manual' && (
                  <Text size="xs" c="dimmed" mt={2}>
                    set by hand{e.note ? ` · ${e.note}` : ''}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <Text size="sm">{e.firstSeenAt ? formatTime(e.firstSeenAt) : '—'}</Text>
                <Text size="xs" c="dimmed">
                  {minutesAfterStart(roster, e.firstSeenAt)}
                </Text>
              </Table.Td>
              <Table.Td>
                {e.confidence !== null ? (
                  <Group gap={6} wrap="nowrap">
                    <Badge variant="light" color={e.needsReview ? 'orange' : e.confirmed ? 'blue' : 'gray'}>
                      {Math.round(e.confidence * 100)}%{e.needsReview ? ' · check' : e.confirmed ? ' · confirmed' : ''}
                    </Badge>
                    {e.source === 'camera' && !e.confirmed && (
                      <Tooltip label="Right person: confirm">
                        <ActionIcon
                          size="sm"
                          variant="subtle"
                          color="teal"
                          aria-label={`Confirm ${e.fullName}`}
                          onClick={() => onConfirm(e)}
                        >
                          <IconCheck size={16} />
                        </ActionIcon>
                      </Tooltip>
                    )}
                    {e.source !== 'manual' && e.firstSeenAt && (
                      <Tooltip label="Wrong person: reject this match">
                        <ActionIcon
                          size="sm"
                          variant="subtle"
                          color="red"
                          aria-label={`Reject match of ${e.fullName}`}
                          onClick={() => onReject(e)}
                        >
                          <IconX size={16} />
                        </ActionIcon>
                      </Tooltip>
                    )}
                  </Group>
                ) : (
                  <Text size="sm" c="dimmed">
                    —
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                {e.handRaises > 0 ? (
                  <Badge variant="light" color="grape" leftSection={<IconHandStop size={12} />}>
                    {e.handRaises}
                  </Badge>
                ) : (
                  <Text size="sm" c="dimmed">
                    —
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <Text size="xs" c="dimmed">
                  {e.changedBy
                    ? `${e.changedBy.name ?? 'someone'}, ${formatTime(e.changedAt)}`
                    : e.source === 'camera'
                      ? 'camera'
                      : ''}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
