import {
  Badge,
  Button,
  Code,
  Drawer,
  Group,
  Paper,
  ScrollArea,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconDownload, IconListDetails } from '@tabler/icons-react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { useAuth } from '../../app/auth.tsx';
import { columnHelper, DataTable, useServerQuery } from '../../components/data-table.tsx';
import { formatDateTime, formatRelative } from '../../components/format.ts';
import { PageHeader } from '../../components/page-header.tsx';
import { UserName } from '../identity/user-name.tsx';
import { UserPicker } from '../identity/user-picker.tsx';
import {
  analysisApi,
  analysisKeys,
  exportUrl,
  type LedgerFilter,
  type Prediction,
  type PredictionSource,
} from './api.ts';
import { ImageOverlay, shapesFromOutput } from './image-overlay.tsx';

const col = columnHelper<Prediction>();
const SOURCES: PredictionSource[] = ['lab', 'api', 'cli', 'album', 'attendance'];

const toIsoOrUndefined = (local: string) => {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
};

function PredictionDetail({ id, onClose }: { id: string | null; onClose: () => void }) {
  const p = useQuery({
    queryKey: ['analysis', 'prediction', id],
    queryFn: () => analysisApi.prediction(id!),
    enabled: !!id,
  });
  const size = (p.data?.output as { size?: { width: number; height: number } } | undefined)?.size;
  return (
    <Drawer opened={!!id} onClose={onClose} position="right" size="xl" title={<Text fw={650}>Prediction {id}</Text>}>
      {p.data && (
        <Stack gap="sm" data-testid="prediction-detail">
          <SimpleGrid cols={2} spacing={6}>
            <Text size="sm" c="dimmed">
              Time
            </Text>
            <Text size="sm">{formatDateTime(p.data.createdAt)}</Text>
            <Text size="sm" c="dimmed">
              User
            </Text>
            <UserName id={p.data.userId} />
            <Text size="sm" c="dimmed">
              Source
            </Text>
            <Text size="sm">{p.data.source}</Text>
            <Text size="sm" c="dimmed">
              Model
            </Text>
            <Text size="sm" ff="monospace">
              {p.data.model}@{p.data.modelVersion}
            </Text>
            <Text size="sm" c="dimmed">
              Weights sha256
            </Text>
            <Code fz="xs" style={{ wordBreak: 'break-all' }}>
              {p.data.weightsSha256 ?? '—'}
            </Code>
            <Text size="sm" c="dimmed">
              Input sha256
            </Text>
            <Code fz="xs" style={{ wordBreak: 'break-all' }}>
              {p.data.inputSha256}
            </Code>
            <Text size="sm" c="dimmed">
              Duration
            </Text>
            <Text size="sm">{p.data.durationMs} ms</Text>
            <Text size="sm" c="dimmed">
              Job
            </Text>
            {p.data.jobId ? <Link to={`/lab/jobs/${p.data.jobId}`}>{p.data.jobId}</Link> : <Text size="sm">—</Text>}
          </SimpleGrid>
          {p.data.inputBlobId && size && (
            <ImageOverlay
              src={`/api/v1/predictions/${p.data.id}/input`}
              alt="input"
              width={size.width}
              height={size.height}
              shapes={shapesFromOutput(p.data.output)}
              maxHeight={300}
            />
          )}
          <Text fw={600} size="sm">
            Parameters
          </Text>
          <Code block fz="xs">
            {JSON.stringify(p.data.parameters, null, 2)}
          </Code>
          <Text fw={600} size="sm">
            Output
          </Text>
          <ScrollArea h={320}>
            <Code block fz="xs">
              {JSON.stringify(p.data.output, null, 2)}
            </Code>
          </ScrollArea>
        </Stack>
      )}
    </Drawer>
  );
}

export function LedgerPage() {
  const { user } = useAuth();
  const admin = user?.role === 'admin';
  const [params, setParams] = useSearchParams();
  const [query, setQuery] = useServerQuery({ limit: 25 });
  const [model, setModel] = useState<string | null>(null);
  const [source, setSource] = useState<string | null>(null);
  const [who, setWho] = useState<string | null>(null);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [sha, setSha] = useState('');
  const [shaDebounced] = useDebouncedValue(sha.trim(), 300);
  const models = useQuery({ queryKey: analysisKeys.models, queryFn: analysisApi.models, staleTime: 60_000 });

  const filter: LedgerFilter = useMemo(
    () => ({
      model: model ?? undefined,
      source: (source as PredictionSource | null) ?? undefined,
      user: who ?? undefined,
      from: toIsoOrUndefined(from),
      to: toIsoOrUndefined(to),
      input_sha256: /^[0-9a-fA-F]{64}$/.test(shaDebounced) ? shaDebounced : undefined,
    }),
    [model, source, who, from, to, shaDebounced],
  );
  const list = useQuery({
    queryKey: analysisKeys.ledger(filter, query.limit, query.offset),
    queryFn: ({ signal }) => analysisApi.predictions(filter, query.limit, query.offset, signal),
    placeholderData: keepPreviousData,
  });
  const reset = () => setQuery({ ...query, offset: 0 });
  const open = params.get('prediction');

  const columns = useMemo(
    () =>
      col.columns([
        col.accessor('createdAt', {
          header: 'When',
          enableSorting: false,
          meta: { width: 150 },
          cell: (i) => (
            <Text size="sm" title={formatDateTime(i.getValue())}>
              {formatRelative(i.getValue())}
            </Text>
          ),
        }),
        col.accessor('model', {
          header: 'Model',
          enableSorting: false,
          cell: (i) => (
            <Text size="sm" ff="monospace">
              {i.getValue()}@{i.row.original.modelVersion}
            </Text>
          ),
        }),
        col.accessor('source', {
          header: 'Source',
          enableSorting: false,
          cell: (i) => (
            <Badge variant="light" size="sm">
              {i.getValue()}
            </Badge>
          ),
        }),
        col.accessor('userId', { header: 'User', enableSorting: false, cell: (i) => <UserName id={i.getValue()} /> }),
        col.accessor('inputSha256', {
          header: 'Input sha256',
          enableSorting: false,
          cell: (i) => (
            <Code fz="xs" title={i.getValue()}>
              {i.getValue().slice(0, 12)}…
            </Code>
          ),
        }),
        col.accessor('durationMs', {
          header: 'ms',
          enableSorting: false,
          meta: { align: 'right' },
          cell: (i) => (
            <Text size="sm" className="aula-tabular">
              {i.getValue()}
            </Text>
          ),
        }),
      ]),
    [],
  );

  return (
    <>
      <PageHeader
        title="Prediction ledger"
        breadcrumbs={[{ label: 'Analysis lab', to: '/lab' }, { label: 'Ledger' }]}
        description={
          admin
            ? 'Every prediction made by anyone: lab, API, CLI, albums and attendance. Rows are never changed.'
            : 'Every prediction made for you: lab, API, CLI and your albums. Rows are never changed.'
        }
        actions={
          <>
            <Button
              component="a"
              href={exportUrl(filter, 'csv')}
              variant="default"
              leftSection={<IconDownload size={16} />}
              data-testid="export-csv"
            >
              CSV
            </Button>
            <Button
              component="a"
              href={exportUrl(filter, 'json')}
              variant="default"
              leftSection={<IconDownload size={16} />}
            >
              JSON
            </Button>
          </>
        }
      />
      <Paper withBorder radius="md" p="sm" mb="md">
        <Group gap="sm" align="flex-end" wrap="wrap">
          <Select
            label="Model"
            placeholder="Any"
            clearable
            data={(models.data ?? []).map((m) => m.name)}
            value={model}
            onChange={(v) => {
              setModel(v);
              reset();
            }}
            w={180}
            data-testid="ledger-model"
          />
          <Select
            label="Source"
            placeholder="Any"
            clearable
            data={SOURCES}
            value={source}
            onChange={(v) => {
              setSource(v);
              reset();
            }}
            w={140}
          />
          {admin && (
            <UserPicker
              label="User"
              placeholder="Anyone"
              clearable
              value={who}
              onChange={(v) => {
                setWho(v);
                reset();
              }}
              w={220}
            />
          )}
          <TextInput
            label="From"
            type="datetime-local"
            value={from}
            onChange={(e) => (setFrom(e.currentTarget.value), reset())}
            w={200}
          />
          <TextInput
            label="To"
            type="datetime-local"
            value={to}
            onChange={(e) => (setTo(e.currentTarget.value), reset())}
            w={200}
          />
          <TextInput
            label="Input sha256"
            placeholder="64 hex digits"
            value={sha}
            onChange={(e) => (setSha(e.currentTarget.value), reset())}
            error={sha.trim() && !/^[0-9a-fA-F]{64}$/.test(sha.trim()) ? 'not a sha256' : undefined}
            w={260}
          />
        </Group>
      </Paper>
      <DataTable
        mode="server"
        label="Predictions"
        columns={columns}
        data={list.data?.items ?? NONE}
        total={list.data?.total ?? 0}
        query={query}
        onQueryChange={setQuery}
        loading={list.isPending}
        fetching={list.isFetching}
        error={list.error}
        getRowId={(p) => p.id}
        searchable={false}
        onRowClick={(p) => setParams({ prediction: p.id })}
        emptyIcon={<IconListDetails size={22} stroke={1.5} />}
        emptyTitle="No predictions match"
        minWidth={820}
      />
      <PredictionDetail id={open} onClose={() => setParams({})} />
    </>
  );
}

const NONE: Prediction[] = [];
