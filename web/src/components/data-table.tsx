import {
  Box,
  CloseButton,
  EmptyState,
  Group,
  Pagination,
  Paper,
  Progress,
  Select,
  Skeleton,
  Table,
  Text,
  TextInput,
  UnstyledButton,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconChevronDown, IconChevronUp, IconDatabaseOff, IconSearch, IconSelector } from '@tabler/icons-react';
import {
  columnFilteringFeature,
  createColumnHelper,
  createFilteredRowModel,
  createPaginatedRowModel,
  createSortedRowModel,
  filterFn_equalsString,
  filterFn_includesString,
  globalFilteringFeature,
  metaHelper,
  rowPaginationFeature,
  rowSortingFeature,
  sortFn_alphanumeric,
  sortFn_basic,
  sortFn_datetime,
  sortFn_text,
  tableFeatures,
  useTable,
  type ColumnDef,
  type ColumnFiltersState,
  type PaginationState,
  type RowData,
  type SortingState,
  type Updater,
} from '@tanstack/react-table';
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { ErrorAlert } from './error-alert.tsx';

/** What a column may declare beyond TanStack's own options. */
export interface DataTableColumnMeta {
  /** A filter control under the header: free text, or a choice among options. */
  filter?:
    | { kind: 'text'; placeholder?: string }
    | { kind: 'select'; options: { value: string; label: string }[]; placeholder?: string };
  /** The server's sort key when it differs from the column id (server mode). */
  sortKey?: string;
  align?: 'left' | 'center' | 'right';
  width?: number | string;
  /** Let the cell's text wrap (long free text); other cells stay on one line. */
  wrap?: boolean;
  /** Narrowest the column may get when its text wraps. */
  minWidth?: number;
}

const features = tableFeatures({
  columnMeta: metaHelper<DataTableColumnMeta>(),
  columnFilteringFeature,
  globalFilteringFeature,
  rowSortingFeature,
  rowPaginationFeature,
  filteredRowModel: createFilteredRowModel(),
  sortedRowModel: createSortedRowModel(),
  paginatedRowModel: createPaginatedRowModel(),
  filterFns: { includesString: filterFn_includesString, equalsString: filterFn_equalsString },
  sortFns: { alphanumeric: sortFn_alphanumeric, text: sortFn_text, datetime: sortFn_datetime, basic: sortFn_basic },
});

export type DataTableFeatures = typeof features;
export type DataColumn<T extends RowData> = ColumnDef<DataTableFeatures, T, any>;

/** Column helper bound to the shared table features; define columns with it. */
export const columnHelper = <T extends RowData>() => createColumnHelper<DataTableFeatures, T>();

/** The list parameters every paginated endpoint takes, as the table drives them in server mode. */
export interface ServerQuery {
  limit: number;
  offset: number;
  q: string;
  sort?: string;
  order?: 'asc' | 'desc';
  /** Column filter values by column id. */
  filters: Record<string, string>;
}

export function initialServerQuery(init: Partial<ServerQuery> = {}): ServerQuery {
  return { limit: 25, offset: 0, q: '', filters: {}, ...init };
}

/** State for a server-mode table: pass `query`/`setQuery` to the table and `query` to the fetch. */
export function useServerQuery(init: Partial<ServerQuery> = {}) {
  return useState<ServerQuery>(() => initialServerQuery(init));
}

/** Common list parameters (`limit/offset/q/sort/order`) of a server query, without empty values. */
export function listParams(query: ServerQuery): {
  limit: number;
  offset: number;
  q?: string;
  sort?: string;
  order?: 'asc' | 'desc';
} {
  return {
    limit: query.limit,
    offset: query.offset,
    ...(query.q.trim() ? { q: query.q.trim() } : {}),
    ...(query.sort ? { sort: query.sort, order: query.order ?? 'asc' } : {}),
  };
}

interface CommonProps<T extends RowData> {
  columns: DataColumn<T>[];
  getRowId?: (row: T) => string;
  /** True while the first page loads (skeleton rows). */
  loading?: boolean;
  /** True while a newer page loads in the background (thin progress bar). */
  fetching?: boolean;
  error?: unknown;
  emptyTitle?: string;
  emptyDescription?: ReactNode;
  emptyIcon?: ReactNode;
  /** Hide the search box when the endpoint cannot search. */
  searchable?: boolean;
  searchPlaceholder?: string;
  /** Controls shown at the right of the search box (filters, buttons). */
  toolbar?: ReactNode;
  onRowClick?: (row: T) => void;
  pageSizes?: number[];
  minWidth?: number;
  /** Accessible name of the table; also `data-testid` for browser tests. */
  label?: string;
}

export interface ClientTableProps<T extends RowData> extends CommonProps<T> {
  mode?: 'client';
  data: T[];
  initialSort?: { id: string; desc?: boolean };
  initialPageSize?: number;
}

export interface ServerTableProps<T extends RowData> extends CommonProps<T> {
  mode: 'server';
  /** The rows of the current page, already filtered, sorted and sliced by the server. */
  data: T[];
  total: number;
  query: ServerQuery;
  onQueryChange: (next: ServerQuery) => void;
}

export type DataTableProps<T extends RowData> = ClientTableProps<T> | ServerTableProps<T>;

const DEFAULT_PAGE_SIZES = [10, 25, 50, 100];

const resolve = <S,>(updater: Updater<S>, old: S): S =>
  typeof updater === 'function' ? (updater as (o: S) => S)(old) : updater;

/**
 * The product's one data table: sorting, a search box, per-column filters, pagination with a
 * page-size choice, loading and empty states. Client mode processes `data` in the browser;
 * server mode turns the same interactions into `limit/offset/q/sort/order` for the API.
 */
export function DataTable<T extends RowData>(props: DataTableProps<T>) {
  const server = props.mode === 'server';
  const pageSizes = props.pageSizes ?? DEFAULT_PAGE_SIZES;

  const columns = useMemo(
    () =>
      props.columns.map((c) =>
        c.meta?.filter?.kind === 'select' && !('filterFn' in c && c.filterFn)
          ? ({ ...c, filterFn: 'equalsString' } as DataColumn<T>)
          : c,
      ),
    [props.columns],
  );

  // Client-mode state; server mode derives the same slices from the query prop.
  const clientProps = props.mode === 'server' ? undefined : props;
  const [cSorting, setCSorting] = useState<SortingState>(
    clientProps?.initialSort ? [{ id: clientProps.initialSort.id, desc: !!clientProps.initialSort.desc }] : [],
  );
  const [cPagination, setCPagination] = useState<PaginationState>({
    pageIndex: 0,
    pageSize: clientProps?.initialPageSize ?? pageSizes[1] ?? pageSizes[0],
  });
  const [cFilters, setCFilters] = useState<ColumnFiltersState>([]);
  const [cGlobal, setCGlobal] = useState('');

  const sortKeyOf = (columnId: string) =>
    columns.find((c) => c.id === columnId || accessorKey(c) === columnId)?.meta?.sortKey ?? columnId;
  const columnIdOfSortKey = (key: string) =>
    columns.find((c) => c.meta?.sortKey === key)?.id ??
    accessorKey(columns.find((c) => c.meta?.sortKey === key)) ??
    key;

  const sorting: SortingState = server
    ? props.query.sort
      ? [{ id: columnIdOfSortKey(props.query.sort), desc: props.query.order === 'desc' }]
      : []
    : cSorting;
  const pagination: PaginationState = server
    ? { pageIndex: Math.floor(props.query.offset / props.query.limit), pageSize: props.query.limit }
    : cPagination;
  const columnFilters: ColumnFiltersState = server
    ? Object.entries(props.query.filters)
        .filter(([, v]) => v !== '')
        .map(([id, value]) => ({ id, value }))
    : cFilters;

  // The search box is typed into locally and applied after a short pause.
  const [search, setSearch] = useState(server ? props.query.q : '');
  const [debouncedSearch] = useDebouncedValue(search, server ? 300 : 120);
  const serverQ = server ? props.query.q : undefined;
  useEffect(() => {
    if (props.mode === 'server') {
      if (debouncedSearch !== props.query.q) props.onQueryChange({ ...props.query, q: debouncedSearch, offset: 0 });
    } else {
      setCGlobal(debouncedSearch);
      setCPagination((p) => ({ ...p, pageIndex: 0 }));
    }
    // Only a new search term triggers this; the query object changes on every page turn.
  }, [debouncedSearch]);
  useEffect(() => {
    // The page may reset the search from outside (e.g. a "clear filters" button).
    if (serverQ !== undefined && serverQ !== debouncedSearch) setSearch(serverQ);
  }, [serverQ]);

  const table = useTable({
    features,
    columns,
    data: props.data,
    getRowId: props.getRowId ? (row: T) => props.getRowId!(row) : undefined,
    state: { sorting, pagination, columnFilters, globalFilter: server ? props.query.q : cGlobal },
    onSortingChange: (u) => {
      const next = resolve(u, sorting);
      if (props.mode === 'server') {
        const s = next[0];
        props.onQueryChange({
          ...props.query,
          sort: s ? sortKeyOf(s.id) : undefined,
          order: s ? (s.desc ? 'desc' : 'asc') : undefined,
          offset: 0,
        });
      } else setCSorting(next);
    },
    onPaginationChange: (u) => {
      const next = resolve(u, pagination);
      if (props.mode === 'server') {
        props.onQueryChange({ ...props.query, limit: next.pageSize, offset: next.pageIndex * next.pageSize });
      } else setCPagination(next);
    },
    onColumnFiltersChange: (u) => {
      const next = resolve(u, columnFilters);
      if (props.mode === 'server') {
        const filters: Record<string, string> = {};
        for (const f of next) if (typeof f.value === 'string' && f.value !== '') filters[f.id] = f.value;
        props.onQueryChange({ ...props.query, filters, offset: 0 });
      } else {
        setCFilters(next);
        setCPagination((p) => ({ ...p, pageIndex: 0 }));
      }
    },
    onGlobalFilterChange: () => {},
    globalFilterFn: 'includesString',
    manualSorting: server,
    manualPagination: server,
    manualFiltering: server,
    autoResetPageIndex: false,
    enableSortingRemoval: true,
    rowCount: server ? props.total : undefined,
  });

  const headerGroups = table.getHeaderGroups();
  const rows = table.getRowModel().rows;
  const hasFilters = columns.some((c) => c.meta?.filter);
  const colCount = headerGroups[0]?.headers.length ?? columns.length;
  const rowCount = server ? props.total : table.getFilteredRowModel().rows.length;
  const pageCount = Math.max(1, Math.ceil(rowCount / pagination.pageSize));
  const first = rowCount === 0 ? 0 : pagination.pageIndex * pagination.pageSize + 1;
  const last = Math.min(rowCount, (pagination.pageIndex + 1) * pagination.pageSize);
  const searchable = props.searchable ?? true;
  const showSkeleton = !!props.loading && props.data.length === 0;

  // A deletion can leave the current page empty; step back to the last real page.
  useEffect(() => {
    if (!props.loading && pagination.pageIndex > 0 && pagination.pageIndex >= pageCount) {
      table.setPageIndex(pageCount - 1);
    }
  }, [pageCount, pagination.pageIndex, props.loading, table]);

  return (
    <Box>
      {(searchable || props.toolbar) && (
        <Group justify="space-between" align="flex-end" mb="sm" gap="sm" wrap="wrap">
          {searchable ? (
            <TextInput
              aria-label="Search"
              placeholder={props.searchPlaceholder ?? 'Search…'}
              leftSection={<IconSearch size={16} stroke={1.6} />}
              rightSection={
                search ? <CloseButton size="sm" aria-label="Clear search" onClick={() => setSearch('')} /> : null
              }
              value={search}
              onChange={(e) => setSearch(e.currentTarget.value)}
              style={{ flex: '1 1 260px', maxWidth: 420 }}
            />
          ) : null}
          {props.toolbar && (
            // Without a search box the toolbar has the whole row to itself.
            <Group gap="sm" wrap="wrap" style={searchable ? undefined : { flex: 1 }}>
              {props.toolbar}
            </Group>
          )}
        </Group>
      )}

      {props.error ? <ErrorAlert error={props.error} mb="sm" /> : null}

      <Paper radius="md" pos="relative" style={{ overflow: 'hidden' }}>
        <Progress
          value={100}
          animated
          size={2}
          radius={0}
          pos="absolute"
          top={0}
          left={0}
          right={0}
          style={{ zIndex: 2, opacity: props.fetching && !showSkeleton ? 1 : 0, transition: 'opacity 150ms' }}
        />
        <Table.ScrollContainer minWidth={props.minWidth ?? 640} type="native">
          <Table
            highlightOnHover={!!props.onRowClick || rows.length > 0}
            verticalSpacing="sm"
            horizontalSpacing="sm"
            aria-label={props.label}
            data-testid={props.label ? `table-${slug(props.label)}` : undefined}
            aria-busy={props.loading || props.fetching ? true : undefined}
          >
            <Table.Thead bg="var(--mantine-color-default-hover)">
              {headerGroups.map((group) => (
                <Table.Tr key={group.id}>
                  {group.headers.map((header) => {
                    const meta = header.column.columnDef.meta;
                    const sorted = header.column.getIsSorted();
                    const canSort = header.column.getCanSort();
                    const content = header.isPlaceholder ? null : <table.FlexRender header={header} />;
                    return (
                      <Table.Th
                        key={header.id}
                        style={{ width: meta?.width, textAlign: meta?.align, whiteSpace: 'nowrap' }}
                        aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : undefined}
                      >
                        {canSort ? (
                          <UnstyledButton
                            onClick={header.column.getToggleSortingHandler()}
                            style={{ display: 'inline-flex', alignItems: 'center', gap: 4, fontWeight: 600 }}
                          >
                            <Text component="span" fz="sm" fw={600}>
                              {content}
                            </Text>
                            {sorted === 'asc' ? (
                              <IconChevronUp size={14} />
                            ) : sorted === 'desc' ? (
                              <IconChevronDown size={14} />
                            ) : (
                              <IconSelector size={14} opacity={0.45} />
                            )}
                          </UnstyledButton>
                        ) : (
                          <Text component="span" fz="sm" fw={600}>
                            {content}
                          </Text>
                        )}
                      </Table.Th>
                    );
                  })}
                </Table.Tr>
              ))}
              {hasFilters && (
                <Table.Tr>
                  {headerGroups[headerGroups.length - 1].headers.map((header) => {
                    const filter = header.column.columnDef.meta?.filter;
                    const value = (header.column.getFilterValue() as string | undefined) ?? '';
                    const label =
                      typeof header.column.columnDef.header === 'string'
                        ? header.column.columnDef.header
                        : header.column.id;
                    return (
                      <Table.Th key={header.id} py={6}>
                        {filter?.kind === 'select' ? (
                          <Select
                            size="xs"
                            miw={120}
                            aria-label={`Filter by ${label}`}
                            placeholder={filter.placeholder ?? 'All'}
                            data={filter.options}
                            value={value || null}
                            onChange={(v) => header.column.setFilterValue(v ?? undefined)}
                            clearable
                            comboboxProps={{ withinPortal: true }}
                          />
                        ) : filter?.kind === 'text' ? (
                          <ColumnTextFilter
                            label={label}
                            placeholder={filter.placeholder}
                            value={value}
                            onChange={(v) => header.column.setFilterValue(v || undefined)}
                          />
                        ) : null}
                      </Table.Th>
                    );
                  })}
                </Table.Tr>
              )}
            </Table.Thead>
            <Table.Tbody>
              {showSkeleton ? (
                Array.from({ length: Math.min(pagination.pageSize, 6) }, (_, i) => (
                  <Table.Tr key={`sk-${i}`}>
                    {Array.from({ length: colCount }, (_, j) => (
                      <Table.Td key={j}>
                        <Skeleton height={14} radius="sm" width={`${60 + ((i * 7 + j * 13) % 35)}%`} />
                      </Table.Td>
                    ))}
                  </Table.Tr>
                ))
              ) : rows.length === 0 ? (
                <Table.Tr>
                  <Table.Td colSpan={colCount}>
                    <EmptyState
                      py="xl"
                      size="sm"
                      withIndicatorBackground
                      icon={props.emptyIcon ?? <IconDatabaseOff size={22} stroke={1.5} />}
                      title={
                        search || columnFilters.length
                          ? 'Nothing matches these filters'
                          : (props.emptyTitle ?? 'Nothing here yet')
                      }
                      description={
                        search || columnFilters.length
                          ? 'Try another search or clear the filters.'
                          : props.emptyDescription
                      }
                    />
                  </Table.Td>
                </Table.Tr>
              ) : (
                rows.map((row) => (
                  <Table.Tr
                    key={row.id}
                    onClick={props.onRowClick ? () => props.onRowClick!(row.original) : undefined}
                    style={props.onRowClick ? { cursor: 'pointer' } : undefined}
                  >
                    {row.getAllCells().map((cell) => {
                      const meta = cell.column.columnDef.meta;
                      return (
                        <Table.Td
                          key={cell.id}
                          style={{
                            textAlign: meta?.align,
                            width: meta?.width,
                            minWidth: meta?.minWidth,
                            whiteSpace: meta?.wrap ? undefined : 'nowrap',
                          }}
                        >
                          <table.FlexRender cell={cell} />
                        </Table.Td>
                      );
                    })}
                  </Table.Tr>
                ))
              )}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Paper>

      {rowCount > 0 && (
        <Group justify="space-between" mt="sm" gap="sm" wrap="wrap">
          <Text size="sm" c="dimmed">
            {first}–{last} of {rowCount.toLocaleString()}
          </Text>
          <Group gap="sm">
            <Select
              size="xs"
              w={118}
              aria-label="Rows per page"
              data={pageSizes.map((n) => ({ value: String(n), label: `${n} / page` }))}
              value={String(pagination.pageSize)}
              onChange={(v) => v && table.setPagination({ pageIndex: 0, pageSize: Number(v) })}
              allowDeselect={false}
            />
            {pageCount > 1 && (
              <Pagination
                size="sm"
                total={pageCount}
                value={pagination.pageIndex + 1}
                onChange={(p) => table.setPageIndex(p - 1)}
                siblings={1}
                boundaries={1}
              />
            )}
          </Group>
        </Group>
      )}
    </Box>
  );
}

function ColumnTextFilter(props: {
  label: string;
  placeholder?: string;
  value: string;
  onChange: (v: string) => void;
}) {
  const [text, setText] = useState(props.value);
  const [debounced] = useDebouncedValue(text, 300);
  useEffect(() => {
    if (debounced !== props.value) props.onChange(debounced);
  }, [debounced]);
  return (
    <TextInput
      size="xs"
      aria-label={`Filter by ${props.label}`}
      placeholder={props.placeholder ?? 'Filter'}
      value={text}
      onChange={(e) => setText(e.currentTarget.value)}
    />
  );
}

function accessorKey(c: object | undefined): string | undefined {
  if (!c) return undefined;
  const k = (c as { accessorKey?: unknown }).accessorKey;
  return typeof k === 'string' ? k : undefined;
}

function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}
