import { Group, Select, Text, type SelectProps } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { identityApi, type Role, type User } from './api.ts';

interface UserPickerProps extends Omit<SelectProps, 'data' | 'value' | 'onChange' | 'searchValue' | 'onSearchChange'> {
  value: string | null;
  onChange: (id: string | null, user: User | null) => void;
  role?: Role;
  /** A user already chosen (when editing), shown before any search. */
  initialUser?: PickedUser | null;
}

type PickedUser = Pick<User, 'id' | 'fullName' | 'username'> & { studentCode?: string | null };

const labelOf = (u: PickedUser) => {
  const handle = u.studentCode ?? u.username;
  return handle ? `${u.fullName} (${handle})` : u.fullName;
};

/** Searchable select over the users list (admin endpoint), optionally one role only. */
export function UserPicker({ value, onChange, role, initialUser, ...rest }: UserPickerProps) {
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search, 250);
  const [chosen, setChosen] = useState<PickedUser | null>(initialUser ?? null);
  // Once an option is picked the box shows its label; that label is not a search term.
  const term = chosen && value === chosen.id && search === labelOf(chosen) ? '' : debounced;

  const q = useQuery({
    queryKey: ['users', 'picker', role ?? 'any', term],
    queryFn: ({ signal }) =>
      identityApi.listUsers({ role, q: term || undefined, limit: 20, sort: 'full_name', order: 'asc' }, signal),
    placeholderData: keepPreviousData,
  });

  const users = useMemo(() => q.data?.items ?? [], [q.data]);
  const data = useMemo(() => {
    const opts = users.map((u) => ({ value: u.id, label: labelOf(u) }));
    if (chosen && !opts.some((o) => o.value === chosen.id)) opts.unshift({ value: chosen.id, label: labelOf(chosen) });
    return opts;
  }, [users, chosen]);

  return (
    <Select
      searchable
      clearable
      data={data}
      value={value}
      onChange={(id) => {
        const u = users.find((x) => x.id === id) ?? null;
        if (u) setChosen(u);
        onChange(id, u);
      }}
      searchValue={search}
      onSearchChange={setSearch}
      filter={({ options }) => options}
      nothingFoundMessage={q.isFetching ? 'Searching…' : 'No matching users'}
      renderOption={({ option }) => {
        const u = users.find((x) => x.id === option.value);
        return (
          <Group gap={6} wrap="nowrap">
            <Text size="sm">{u?.fullName ?? option.label}</Text>
            {u && (
              <Text size="xs" c="dimmed">
                {u.studentCode ?? u.username} · {u.email}
              </Text>
            )}
          </Group>
        );
      }}
      {...rest}
    />
  );
}
