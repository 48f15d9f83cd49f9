import { Button, Group, Modal, Text } from '@mantine/core';
import { useCallback, useRef, useState, type ReactNode } from 'react';
import { ErrorAlert } from './error-alert.tsx';

export interface ConfirmOptions {
  title: string;
  message: ReactNode;
  confirmLabel?: string;
  /** Red confirm button for destructive actions. */
  danger?: boolean;
  /** Runs on confirm; the dialog stays open with the error if it throws. */
  onConfirm: () => unknown;
}

interface ConfirmDialogProps extends Omit<ConfirmOptions, 'onConfirm'> {
  opened: boolean;
  loading?: boolean;
  error?: unknown;
  onConfirm: () => void;
  onClose: () => void;
}

export function ConfirmDialog(props: ConfirmDialogProps) {
  return (
    <Modal opened={props.opened} onClose={props.onClose} title={<Text fw={650}>{props.title}</Text>} size="md">
      <Text size="sm">{props.message}</Text>
      {props.error ? <ErrorAlert error={props.error} mt="md" /> : null}
      <Group justify="flex-end" mt="lg">
        <Button variant="default" onClick={props.onClose} disabled={props.loading}>
          Cancel
        </Button>
        <Button
          color={props.danger ? 'red' : undefined}
          loading={props.loading}
          onClick={props.onConfirm}
          data-autofocus
        >
          {props.confirmLabel ?? 'Confirm'}
        </Button>
      </Group>
    </Modal>
  );
}

/**
 * `const [dialog, confirm] = useConfirm()` — render `dialog` once, then
 * `confirm({ title, message, danger, onConfirm })` from any handler.
 */
export function useConfirm(): [ReactNode, (opts: ConfirmOptions) => void] {
  const [opts, setOpts] = useState<ConfirmOptions | null>(null);
  const [opened, setOpened] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const running = useRef(false);

  const ask = useCallback((o: ConfirmOptions) => {
    setOpts(o);
    setError(null);
    setOpened(true);
  }, []);

  const close = () => {
    if (!running.current) setOpened(false);
  };

  const confirm = async () => {
    if (!opts || running.current) return;
    running.current = true;
    setLoading(true);
    setError(null);
    try {
      await opts.onConfirm();
      setOpened(false);
    } catch (err) {
      setError(err);
    } finally {
      running.current = false;
      setLoading(false);
    }
  };

  const dialog = opts ? (
    <ConfirmDialog
      opened={opened}
      title={opts.title}
      message={opts.message}
      confirmLabel={opts.confirmLabel}
      danger={opts.danger}
      loading={loading}
      error={error}
      onConfirm={() => void confirm()}
      onClose={close}
    />
  ) : null;
  return [dialog, ask];
}
