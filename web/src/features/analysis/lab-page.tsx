import {
  Badge,
  Button,
  Card,
  Code,
  Grid,
  Group,
  Paper,
  Progress,
  SimpleGrid,
  Stack,
  Text,
  Title,
  Tooltip,
  UnstyledButton,
} from '@mantine/core';
import { IconFlask, IconListDetails, IconPhoto, IconPlayerPlay, IconX } from '@tabler/icons-react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { ApiError, fieldErrors } from '../../app/api.ts';
import { PageLoader } from '../../app/page-states.tsx';
import { columnHelper, DataTable, useServerQuery } from '../../components/data-table.tsx';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { FileDropzone } from '../../components/file-dropzone.tsx';
import { formatRelative } from '../../components/format.ts';
import { PageHeader } from '../../components/page-header.tsx';
import { analysisApi, analysisKeys, type Job, type Model } from './api.ts';
import { JobStatusBadge } from './job-status.tsx';
import { defaultsOf, SchemaForm } from './schema-form.tsx';

const col = columnHelper<Job>();
const jobColumns = col.columns([
  col.accessor('createdAt', {
    header: 'Started',
    enableSorting: false,
    cell: (i) => <Text size="sm">{formatRelative(i.getValue())}</Text>,
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
  col.accessor('status', {
    header: 'Status',
    enableSorting: false,
    cell: (i) => <JobStatusBadge job={i.row.original} />,
  }),
  col.accessor('total', {
    header: 'Images',
    enableSorting: false,
    meta: { align: 'right' },
    cell: (i) => {
      const j = i.row.original;
      return (
        <Text size="sm" className="aula-tabular">
          {j.processed - j.failed}/{j.total}
          {j.failed ? ` (${j.failed} failed)` : ''}
        </Text>
      );
    },
  }),
]);

function ModelCard({ model, selected, onSelect }: { model: Model; selected: boolean; onSelect: () => void }) {
  return (
    <UnstyledButton onClick={onSelect} data-testid={`model-${model.name}`} aria-pressed={selected}>
      <Card
        withBorder
        radius="md"
        padding="sm"
        h="100%"
        style={{
          borderColor: selected ? 'var(--mantine-primary-color-filled)' : undefined,
          boxShadow: selected ? '0 0 0 1px var(--mantine-primary-color-filled)' : undefined,
        }}
      >
        <Group justify="space-between" gap={6} wrap="nowrap">
          <Text fw={650} size="sm" ff="monospace">
            {model.name}
          </Text>
          <Badge size="xs" variant="light" color={model.available ? 'teal' : 'red'}>
            {model.available ? model.task : 'unavailable'}
          </Badge>
        </Group>
        <Text size="xs" c="dimmed" mt={4} lineClamp={3}>
          {model.description}
        </Text>
        <Text size="xs" c="dimmed" mt={6}>
          v{model.version}
        </Text>
      </Card>
    </UnstyledButton>
  );
}

export function LabPage() {
  const navigate = useNavigate();
  const qc = useQueryClient();
  const models = useQuery({ queryKey: analysisKeys.models, queryFn: analysisApi.models, staleTime: 60_000 });
  const [name, setName] = useState<string | null>(null);
  const model = useMemo(() => models.data?.find((m) => m.name === name) ?? null, [models.data, name]);
  const [params, setParams] = useState<Record<string, unknown>>({});
  const [files, setFiles] = useState<File[]>([]);
  const [query, setQuery] = useServerQuery({ limit: 10 });
  const jobs = useQuery({
    queryKey: analysisKeys.jobs(query.limit, query.offset),
    queryFn: ({ signal }) => analysisApi.jobs(query.limit, query.offset, signal),
    placeholderData: keepPreviousData,
  });

  useEffect(() => {
    if (!name && models.data?.length) setName(models.data.find((m) => m.available)?.name ?? models.data[0].name);
  }, [models.data, name]);
  useEffect(() => {
    if (model) setParams(defaultsOf(model.parameters));
  }, [model]);

  const run = useMutation({
    mutationFn: () => analysisApi.start(model!.name, params, files),
    onSuccess: (job) => {
      void qc.invalidateQueries({ queryKey: ['analysis', 'jobs'] });
      void navigate(`/lab/jobs/${job.id}`);
    },
  });
  // invalid_parameters names each parameter: the message goes under its field.
  const errors = fieldErrors(run.error);

  if (models.isPending) return <PageLoader />;
  return (
    <>
      <PageHeader
        title="Analysis lab"
        description="Run any vision model on your images (or one zip of images). Every prediction is recorded in the ledger with the model version, weights, parameters and input hash."
        actions={
          <Button component={Link} to="/lab/ledger" variant="default" leftSection={<IconListDetails size={16} />}>
            Prediction ledger
          </Button>
        }
      />
      <ErrorAlert error={models.error} mb="md" />
      <Grid gap="lg">
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Title order={4} mb="sm">
            1. Model
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
            {(models.data ?? []).map((m) => (
              <ModelCard key={m.name} model={m} selected={m.name === name} onSelect={() => setName(m.name)} />
            ))}
          </SimpleGrid>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Paper withBorder radius="md" p="md">
            <Title order={4} mb="sm">
              2. Parameters
            </Title>
            {model ? (
              <>
                {!model.available && (
                  <ErrorAlert error={new Error(model.error ?? 'unavailable')} title="Model unavailable" mb="sm" />
                )}
                <SchemaForm schema={model.parameters} value={params} onChange={setParams} errors={errors} />
                <Tooltip label={model.weightsSha256 ?? 'no weight files'}>
                  <Text size="xs" c="dimmed" mt="sm" truncate>
                    weights {model.weightsSha256 ? <Code fz="xs">{model.weightsSha256.slice(0, 16)}…</Code> : '—'}
                  </Text>
                </Tooltip>
              </>
            ) : (
              <Text size="sm" c="dimmed">
                Choose a model.
              </Text>
            )}
            <Title order={4} mt="lg" mb="sm">
              3. Images
            </Title>
            <FileDropzone
              onFiles={(f) => setFiles((prev) => [...prev, ...f].slice(0, 100))}
              title="Drop images or one zip here"
              hint="JPEG, PNG, WebP… or a .zip of images; up to 100 files"
              icon={<IconPhoto size={36} stroke={1.3} opacity={0.6} />}
              inputTestId="lab-files"
              compact
              multiple
            />
            {files.length > 0 && (
              <Stack gap={4} mt="sm">
                {files.map((f, i) => (
                  <Group key={`${f.name}-${i}`} justify="space-between" wrap="nowrap">
                    <Text size="sm" truncate>
                      {f.name}
                    </Text>
                    <Button
                      size="compact-xs"
                      variant="subtle"
                      color="gray"
                      onClick={() => setFiles(files.filter((_, j) => j !== i))}
                      aria-label={`Remove ${f.name}`}
                    >
                      <IconX size={14} />
                    </Button>
                  </Group>
                ))}
              </Stack>
            )}
            {run.error && !(run.error instanceof ApiError && run.error.code === 'invalid_parameters') ? (
              <ErrorAlert error={run.error} mt="md" />
            ) : null}
            <Button
              mt="md"
              fullWidth
              leftSection={<IconPlayerPlay size={16} />}
              disabled={!model || files.length === 0}
              loading={run.isPending}
              onClick={() => run.mutate()}
              data-testid="run-analysis"
            >
              Run {model?.name ?? 'analysis'} on {files.length} file{files.length === 1 ? '' : 's'}
            </Button>
            {run.isPending && <Progress value={100} animated mt="xs" size="xs" />}
          </Paper>
        </Grid.Col>
      </Grid>
      <Title order={4} mt="xl" mb="sm">
        Your analyses
      </Title>
      <DataTable
        mode="server"
        label="Analyses"
        columns={jobColumns}
        data={jobs.data?.items ?? NO_JOBS}
        total={jobs.data?.total ?? 0}
        query={query}
        onQueryChange={setQuery}
        loading={jobs.isPending}
        fetching={jobs.isFetching}
        error={jobs.error}
        getRowId={(j) => j.id}
        searchable={false}
        onRowClick={(j) => navigate(`/lab/jobs/${j.id}`)}
        emptyIcon={<IconFlask size={22} stroke={1.5} />}
        emptyTitle="No analyses yet"
        emptyDescription="Pick a model, add images and run it."
      />
    </>
  );
}

const NO_JOBS: Job[] = [];
