import {
  Accordion,
  Alert,
  Badge,
  Button,
  Code,
  Group,
  Paper,
  Progress,
  ScrollArea,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Text,
  Tooltip,
} from '@mantine/core';
import { IconAlertTriangle, IconPlugConnected, IconRepeat } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { PageLoader } from '../../app/page-states.tsx';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { formatDateTime } from '../../components/format.ts';
import { PageHeader } from '../../components/page-header.tsx';
import { useLiveSocket, useRoom } from '../grades/use-live.ts';
import {
  analysisApi,
  analysisKeys,
  inputImageUrl,
  type Job,
  type JobDetail,
  type JobInput,
  type Prediction,
} from './api.ts';
import { ImageOverlay, shapesFromOutput } from './image-overlay.tsx';
import { JobStatusBadge } from './job-status.tsx';

function sizeOf(output: unknown): { width: number; height: number } | null {
  const s = (output as { size?: { width?: unknown; height?: unknown } } | null)?.size;
  return s && typeof s.width === 'number' && typeof s.height === 'number' ? { width: s.width, height: s.height } : null;
}

/** A short human summary of an output, next to the full JSON. */
function summary(output: unknown): string {
  if (!output || typeof output !== 'object') return '';
  const o = output as Record<string, unknown>;
  const parts: string[] = [];
  const count = (k: string, word: string) => Array.isArray(o[k]) && parts.push(`${(o[k] as unknown[]).length} ${word}`);
  count('faces', 'faces');
  count('objects', 'objects');
  count('people', 'people');
  count('lines', 'text lines');
  if (typeof o.antispoof === 'number')
    parts.push(`antispoof ${o.antispoof.toFixed(2)}, liveness ${Number(o.liveness).toFixed(2)}`);
  return parts.join(' · ');
}

function InputResult({
  job,
  input,
  prediction,
}: {
  job: JobDetail;
  input: JobInput;
  prediction: Prediction | undefined;
}) {
  const [view, setView] = useState<'image' | 'json'>('image');
  const size = prediction ? sizeOf(prediction.output) : null;
  return (
    <Paper withBorder radius="md" p="sm" data-testid="job-result">
      <Group justify="space-between" mb="xs" wrap="nowrap">
        <Text fw={600} size="sm" truncate title={input.filename}>
          {input.filename}
        </Text>
        {input.status === 'failed' ? (
          <Badge color="red" variant="light">
            {input.errorCode}
          </Badge>
        ) : input.status === 'pending' ? (
          <Badge color="gray" variant="light">
            waiting
          </Badge>
        ) : (
          <SegmentedControl
            size="xs"
            value={view}
            onChange={(v) => setView(v)}
            data={[
              { value: 'image', label: 'Image' },
              { value: 'json', label: 'JSON' },
            ]}
          />
        )}
      </Group>
      {input.status === 'failed' && (
        <Alert color="red" variant="light" icon={<IconAlertTriangle size={16} />} p="xs">
          <Text size="sm">{input.error}</Text>
        </Alert>
      )}
      {prediction && view === 'image' && (
        <Stack gap={6} align="center">
          {input.hasImage && size ? (
            <ImageOverlay
              src={inputImageUrl(job.id, input.id)}
              alt={input.filename}
              width={size.width}
              height={size.height}
              shapes={shapesFromOutput(prediction.output)}
              maxHeight={360}
            />
          ) : input.hasImage ? (
            <img
              src={inputImageUrl(job.id, input.id)}
              alt={input.filename}
              style={{ maxWidth: '100%', maxHeight: 360 }}
            />
          ) : null}
          <Text size="xs" c="dimmed">
            {summary(prediction.output)} · {prediction.durationMs} ms
          </Text>
          {typeof (prediction.output as { text?: unknown }).text === 'string' && (
            <Code block w="100%" style={{ whiteSpace: 'pre-wrap', userSelect: 'text' }} data-testid="ocr-output">
              {(prediction.output as { text: string }).text}
            </Code>
          )}
        </Stack>
      )}
      {prediction && view === 'json' && (
        <ScrollArea h={360}>
          <Code block fz="xs" data-testid="json-output">
            {JSON.stringify(prediction.output, null, 2)}
          </Code>
        </ScrollArea>
      )}
      {prediction && (
        <Text size="xs" c="dimmed" mt={6}>
          prediction{' '}
          <Link to={`/lab/ledger?prediction=${prediction.id}`}>
            <Code fz="xs">{prediction.id}</Code>
          </Link>
        </Text>
      )}
    </Paper>
  );
}

export function JobPage() {
  const { id = '' } = useParams();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const { socket, status } = useLiveSocket();
  const job = useQuery({
    queryKey: analysisKeys.job(id),
    queryFn: ({ signal }) => analysisApi.job(id, signal),
    // Polling is the fallback when the live connection is down; results arrive with it anyway.
    refetchInterval: (q) =>
      q.state.data && (q.state.data.status === 'done' || q.state.data.status === 'failed')
        ? false
        : status === 'live'
          ? 5000
          : 1500,
  });
  const [live, setLive] = useState<Job | null>(null);
  useRoom<Job>(socket, id ? `job:${id}` : null, 'analysis.progress', (j) => {
    setLive(j);
    // Each update means new per-image results to read.
    void qc.invalidateQueries({ queryKey: analysisKeys.job(id) });
  });
  const rerun = useMutation({
    mutationFn: () => analysisApi.rerun(id),
    onSuccess: (j) => navigate(`/lab/jobs/${j.id}`),
  });

  if (job.isPending) return <PageLoader />;
  if (job.error || !job.data) return <ErrorAlert error={job.error} />;
  const j = job.data;
  const state = live && live.processed > j.processed ? { ...j, ...live } : j;
  const pct = state.total ? Math.round((state.processed / state.total) * 100) : 0;
  const finished = state.status === 'done' || state.status === 'failed';
  const byId = new Map(j.predictions.map((p) => [p.id, p]));

  return (
    <>
      <PageHeader
        title={`${j.model} analysis`}
        breadcrumbs={[{ label: 'Analysis lab', to: '/lab' }, { label: j.id }]}
        badges={<JobStatusBadge job={state} />}
        description={
          <>
            {j.model}@{j.modelVersion} · started {formatDateTime(j.createdAt)}
            {j.rerunOf && (
              <>
                {' '}
                · repeats <Link to={`/lab/jobs/${j.rerunOf}`}>{j.rerunOf}</Link>
              </>
            )}
          </>
        }
        actions={
          <Tooltip label="Same model version, weights and parameters over the same images">
            <Button
              variant="default"
              leftSection={<IconRepeat size={16} />}
              onClick={() => rerun.mutate()}
              loading={rerun.isPending}
              disabled={!finished}
              data-testid="rerun"
            >
              Run again
            </Button>
          </Tooltip>
        }
      />
      <ErrorAlert error={rerun.error} mb="md" />
      <Paper withBorder radius="md" p="md" mb="md">
        <Group justify="space-between" mb={6}>
          <Text size="sm" data-testid="job-progress">
            {state.processed} of {state.total} processed{state.failed ? `, ${state.failed} failed` : ''}
          </Text>
          <Group gap={4}>
            <IconPlugConnected
              size={14}
              color={status === 'live' ? 'var(--mantine-color-teal-6)' : 'var(--mantine-color-gray-5)'}
            />
            <Text size="xs" c="dimmed">
              {status === 'live' ? 'live' : 'polling'}
            </Text>
          </Group>
        </Group>
        <Progress value={pct} animated={!finished} color={state.status === 'failed' ? 'red' : undefined} />
        {j.error && (
          <Text size="sm" c="red" mt="xs">
            {j.error}
          </Text>
        )}
        <Accordion variant="filled" mt="sm">
          <Accordion.Item value="params">
            <Accordion.Control>Parameters and weights</Accordion.Control>
            <Accordion.Panel>
              <Code block fz="xs">
                {JSON.stringify({ parameters: j.parameters, weightsSha256: j.weightsSha256 }, null, 2)}
              </Code>
            </Accordion.Panel>
          </Accordion.Item>
        </Accordion>
      </Paper>
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
        {j.inputs.map((input) => (
          <InputResult
            key={input.id}
            job={j}
            input={input}
            prediction={input.predictionId ? byId.get(input.predictionId) : undefined}
          />
        ))}
      </SimpleGrid>
    </>
  );
}
