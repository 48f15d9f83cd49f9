import { ActionIcon, Badge, Button, Code, CopyButton, Group, Paper, Select, Stack, Text, Tooltip } from '@mantine/core';
import { IconArrowRight, IconCheck, IconCopy, IconLanguage, IconScan } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { languageName, mediaApi, mediaKeys, OCR_LANGS, type PhotoDetail, type Translation } from './api.ts';

function Copy({ value }: { value: string }) {
  return (
    <CopyButton value={value} timeout={1500}>
      {({ copied, copy }) => (
        <Tooltip label={copied ? 'Copied' : 'Copy'}>
          <ActionIcon variant="subtle" color={copied ? 'teal' : 'gray'} onClick={copy} aria-label="Copy">
            {copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
          </ActionIcon>
        </Tooltip>
      )}
    </CopyButton>
  );
}

/** Text found in the photo (selectable and copyable), with extraction on demand. */
export function PhotoText({ photo }: { photo: PhotoDetail }) {
  const qc = useQueryClient();
  const [lang, setLang] = useState<string>('spa+eng');
  const ocr = useMutation({
    mutationFn: () => mediaApi.extractText(photo.id, lang),
    onSuccess: () => qc.invalidateQueries({ queryKey: mediaKeys.photo(photo.id) }),
  });
  return (
    <Stack gap="xs">
      {photo.text ? (
        <Paper withBorder p="xs" radius="sm">
          <Group justify="space-between" align="flex-start" wrap="nowrap">
            <Text size="sm" style={{ whiteSpace: 'pre-wrap', userSelect: 'text', flex: 1 }} data-testid="photo-text">
              {photo.text.text || '(no text found)'}
            </Text>
            <Copy value={photo.text.text} />
          </Group>
          <Text size="xs" c="dimmed" mt={4}>
            {photo.text.origin === 'auto' ? 'read on upload' : 'extracted on request'} · {photo.text.lang} · confidence{' '}
            {Math.round(photo.text.confidence)}%
          </Text>
        </Paper>
      ) : (
        <Text size="sm" c="dimmed">
          {photo.looksLikeDocument ? 'Reading the text…' : 'No text extracted yet.'}
        </Text>
      )}
      {photo.mine && (
        <Group gap="xs" wrap="nowrap">
          <Select
            size="xs"
            data={OCR_LANGS}
            value={lang}
            onChange={(v) => setLang(v ?? 'spa+eng')}
            w={190}
            aria-label="OCR languages"
          />
          <Button
            size="xs"
            variant="light"
            leftSection={<IconScan size={14} />}
            onClick={() => ocr.mutate()}
            loading={ocr.isPending}
            data-testid="extract-text"
          >
            {photo.text ? 'Extract again' : 'Extract text'}
          </Button>
        </Group>
      )}
      <ErrorAlert error={ocr.error} />
    </Stack>
  );
}

/** Translation of the description or the extracted text, naming the provider and the languages. */
export function PhotoTranslate({ photo }: { photo: PhotoDetail }) {
  const info = useQuery({ queryKey: mediaKeys.translator, queryFn: mediaApi.translator, staleTime: 5 * 60_000 });
  const pairs = useMemo(() => info.data?.pairs ?? [], [info.data]);
  const [from, setFrom] = useState<string>('es');
  const [to, setTo] = useState<string>('en');
  const [result, setResult] = useState<(Translation & { field: string }) | null>(null);
  useEffect(() => setResult(null), [photo.id]);
  const fromOptions = [...new Set(pairs.map((p) => p.from))];
  const toOptions = pairs.filter((p) => p.from === from).map((p) => p.to);
  const translate = useMutation({
    mutationFn: (field: 'description' | 'text') => mediaApi.translatePhoto(photo.id, field, from, to),
    onSuccess: (r, field) => setResult({ ...r, field }),
  });

  if (info.data && !info.data.configured) {
    return (
      <Text size="sm" c="dimmed" data-testid="translation-unavailable">
        {info.data.error ?? 'Translation is not configured on this server.'}
      </Text>
    );
  }
  return (
    <Stack gap="xs">
      <Group gap="xs" wrap="nowrap">
        <Badge variant="light" tt="none" leftSection={<IconLanguage size={12} />} data-testid="translation-provider">
          {info.data?.provider ?? '…'}
        </Badge>
        <Select
          size="xs"
          w={120}
          aria-label="From"
          data={fromOptions.map((c) => ({ value: c, label: languageName(c) }))}
          value={from}
          onChange={(v) => {
            const f = v ?? 'es';
            setFrom(f);
            const next = pairs.find((p) => p.from === f)?.to;
            if (next && !pairs.some((p) => p.from === f && p.to === to)) setTo(next);
          }}
        />
        <IconArrowRight size={14} />
        <Select
          size="xs"
          w={120}
          aria-label="To"
          data={toOptions.map((c) => ({ value: c, label: languageName(c) }))}
          value={to}
          onChange={(v) => setTo(v ?? 'en')}
        />
      </Group>
      <Group gap="xs">
        <Button
          size="xs"
          variant="light"
          onClick={() => translate.mutate('description')}
          disabled={!photo.description}
          loading={translate.isPending && translate.variables === 'description'}
          data-testid="translate-description"
        >
          Translate description
        </Button>
        <Button
          size="xs"
          variant="light"
          onClick={() => translate.mutate('text')}
          disabled={!photo.text?.text}
          loading={translate.isPending && translate.variables === 'text'}
          data-testid="translate-text"
        >
          Translate text
        </Button>
      </Group>
      <ErrorAlert error={translate.error} />
      {result && (
        <Paper withBorder p="xs" radius="sm">
          <Group justify="space-between" align="flex-start" wrap="nowrap">
            <Text
              size="sm"
              style={{ whiteSpace: 'pre-wrap', userSelect: 'text', flex: 1 }}
              data-testid="translation-result"
            >
              {result.text}
            </Text>
            <Copy value={result.text} />
          </Group>
          <Text size="xs" c="dimmed" mt={4}>
            {result.field} · {languageName(result.from)} → {languageName(result.to)} · {result.provider}
            {result.cached ? ' · from cache' : ''}
          </Text>
        </Paper>
      )}
      {info.data && !info.data.available && info.data.error && <Code fz="xs">{info.data.error}</Code>}
    </Stack>
  );
}
