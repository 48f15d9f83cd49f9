import { Badge, Text, Timeline } from '@mantine/core';
import { IconApi, IconFileSpreadsheet, IconPencil, IconPlugConnected } from '@tabler/icons-react';
import { formatDateTime } from '../../components/format.ts';
import { SOURCE_LABELS, type GradeSource } from './api.ts';

export function PassBadge({ passed }: { passed: boolean | null }) {
  if (passed === null)
    return (
      <Badge variant="outline" color="gray" radius="sm">
        Not graded
      </Badge>
    );
  return (
    <Badge variant="light" color={passed ? 'teal' : 'red'} radius="sm">
      {passed ? 'Passed' : 'Failed'}
    </Badge>
  );
}

const SOURCE_ICONS = {
  rest: IconApi,
  grpc: IconPlugConnected,
  ui: IconPencil,
  csv: IconFileSpreadsheet,
} satisfies Record<GradeSource, unknown>;

export function SourceBadge({ source }: { source: GradeSource | null }) {
  if (!source)
    return (
      <Text size="sm" c="dimmed">
        —
      </Text>
    );
  const Icon = SOURCE_ICONS[source];
  return (
    <Badge variant="default" radius="sm" tt="none" fw={500} leftSection={<Icon size={12} stroke={1.8} />}>
      {SOURCE_LABELS[source]}
    </Badge>
  );
}

export interface HistoryItem {
  id?: string;
  score: number;
  source: GradeSource;
  receivedAt: string;
  createdBy?: { id: string; name: string } | null;
}

/** Every record of one grade, newest first; the first is the effective one. */
export function GradeTimeline({ items, passingGrade }: { items: HistoryItem[]; passingGrade: number }) {
  return (
    <Timeline active={0} bulletSize={22} lineWidth={2} data-testid="grade-history">
      {items.map((r, i) => {
        const Icon = SOURCE_ICONS[r.source];
        return (
          <Timeline.Item
            key={r.id ?? `${r.receivedAt}-${i}`}
            bullet={<Icon size={12} />}
            color={r.score >= passingGrade ? 'teal' : 'red'}
            title={
              <Text fw={650} size="sm">
                {formatScore(r.score)}
                {i === 0 && (
                  <Badge ml="xs" size="xs" variant="light">
                    effective
                  </Badge>
                )}
              </Text>
            }
          >
            <Text size="xs" c="dimmed">
              {SOURCE_LABELS[r.source]}
              {r.createdBy ? ` · by ${r.createdBy.name}` : ''}
            </Text>
            <Text size="xs" c="dimmed">
              {formatDateTime(r.receivedAt)}
            </Text>
          </Timeline.Item>
        );
      })}
    </Timeline>
  );
}

export function formatScore(score: number | null): string {
  if (score === null) return '—';
  return Number.isInteger(score) ? String(score) : score.toFixed(2).replace(/0$/, '');
}
