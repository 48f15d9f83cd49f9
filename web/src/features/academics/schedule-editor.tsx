import { ActionIcon, Button, Group, Select, Stack, Text, TextInput, Tooltip } from '@mantine/core';
import { IconClockPlus, IconTrash } from '@tabler/icons-react';
import { DAY_NAMES, type ScheduleSlot } from './api.ts';

const dayOptions = DAY_NAMES.map((d, i) => ({ value: String(i + 1), label: d }));

/** Problems the server would reject, shown while editing. */
export function scheduleProblems(slots: ScheduleSlot[]): (string | null)[] {
  return slots.map((s, i) => {
    if (!/^\d{2}:\d{2}$/.test(s.start) || !/^\d{2}:\d{2}$/.test(s.end)) return 'Enter both times';
    if (s.end <= s.start) return 'Ends before it starts';
    const overlap = slots.some((o, j) => j !== i && o.day === s.day && o.start < s.end && s.start < o.end);
    return overlap ? 'Overlaps another slot on the same day' : null;
  });
}

/** Rows of weekly meetings: day, start and end time. */
export function ScheduleEditor(props: {
  value: ScheduleSlot[];
  onChange: (slots: ScheduleSlot[]) => void;
  error?: string;
}) {
  const problems = scheduleProblems(props.value);
  const update = (i: number, patch: Partial<ScheduleSlot>) =>
    props.onChange(props.value.map((s, j) => (j === i ? { ...s, ...patch } : s)));
  const add = () => {
    const last = props.value[props.value.length - 1];
    props.onChange([
      ...props.value,
      last
        ? { day: Math.min(7, last.day + 2), start: last.start, end: last.end }
        : { day: 1, start: '07:00', end: '08:40' },
    ]);
  };

  return (
    <Stack gap={6}>
      <Group justify="space-between">
        <div>
          <Text size="sm" fw={500}>
            Weekly schedule
          </Text>
          <Text size="xs" c="dimmed">
            Class sessions are generated from these meetings.
          </Text>
        </div>
        <Button size="xs" variant="light" leftSection={<IconClockPlus size={15} />} onClick={add}>
          Add meeting
        </Button>
      </Group>
      {props.value.length === 0 && (
        <Text size="sm" c="dimmed" py={6}>
          No meetings yet.
        </Text>
      )}
      {props.value.map((slot, i) => (
        <Group key={i} gap="xs" align="flex-start" wrap="nowrap" data-testid="schedule-row">
          <Select
            aria-label={`Meeting ${i + 1} day`}
            data={dayOptions}
            value={String(slot.day)}
            onChange={(d) => d && update(i, { day: Number(d) })}
            allowDeselect={false}
            w={150}
            comboboxProps={{ withinPortal: true }}
          />
          <TextInput
            type="time"
            aria-label={`Meeting ${i + 1} start`}
            value={slot.start}
            onChange={(e) => update(i, { start: e.currentTarget.value })}
            w={140}
            error={problems[i] ? true : undefined}
          />
          <Text pt={6} c="dimmed">
            –
          </Text>
          <TextInput
            type="time"
            aria-label={`Meeting ${i + 1} end`}
            value={slot.end}
            onChange={(e) => update(i, { end: e.currentTarget.value })}
            w={140}
            error={problems[i] ? true : undefined}
          />
          <Tooltip label="Remove meeting">
            <ActionIcon
              variant="subtle"
              color="red"
              mt={4}
              aria-label={`Remove meeting ${i + 1}`}
              onClick={() => props.onChange(props.value.filter((_, j) => j !== i))}
            >
              <IconTrash size={16} />
            </ActionIcon>
          </Tooltip>
          {problems[i] && (
            <Text size="xs" c="red" pt={8}>
              {problems[i]}
            </Text>
          )}
        </Group>
      ))}
      {props.error && (
        <Text size="xs" c="red">
          {props.error}
        </Text>
      )}
    </Stack>
  );
}
