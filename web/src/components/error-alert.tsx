import { Alert, List, Text, type AlertProps } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { ApiError, errorMessage } from '../app/api.ts';

interface ErrorAlertProps extends Omit<AlertProps, 'title'> {
  error: unknown;
  title?: string;
  /** List the problem's `errors` entries (field paths or file lines) under the message. */
  showItems?: boolean;
  /** At most this many entries are listed; the rest are counted. */
  maxItems?: number;
  /** Leave out the problem's own sentence when the title already says it. */
  hideMessage?: boolean;
}

/** Shows an API problem (or any error) as a readable alert. */
export function ErrorAlert({ error, title, showItems = true, maxItems = 50, hideMessage, ...rest }: ErrorAlertProps) {
  if (!error) return null;
  const items = error instanceof ApiError && showItems ? (error.errors ?? []) : [];
  return (
    <Alert
      color="red"
      variant="light"
      icon={<IconAlertTriangle size={18} />}
      title={title ?? defaultTitle(error)}
      role="alert"
      {...rest}
    >
      {!hideMessage && <Text size="sm">{errorMessage(error)}</Text>}
      {items.length > 0 && (
        <List size="sm" mt={hideMessage ? 0 : 'xs'} spacing={2} data-testid="problem-items">
          {items.slice(0, maxItems).map((e, i) => (
            <List.Item key={i}>
              {e.line !== undefined ? (
                <Text span fw={600} size="sm">
                  Line {e.line}:{' '}
                </Text>
              ) : e.path ? (
                <Text span fw={600} size="sm">
                  {e.path.replace(/^(body|querystring|params)\./, '')}:{' '}
                </Text>
              ) : null}
              {e.message}
            </List.Item>
          ))}
          {items.length > maxItems && <List.Item>…and {items.length - maxItems} more</List.Item>}
        </List>
      )}
    </Alert>
  );
}

function defaultTitle(error: unknown): string {
  if (!(error instanceof ApiError)) return 'Something went wrong';
  if (error.status === 0) return 'Offline';
  if (error.status === 403) return 'Not allowed';
  if (error.status === 404) return 'Not found';
  if (error.status === 409) return 'Conflict';
  if (error.status === 429) return 'Too many attempts';
  if (error.status >= 500) return 'Server error';
  return 'Could not complete the request';
}
