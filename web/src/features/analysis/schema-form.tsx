import { NumberInput, Select, Stack, Switch, Text, TextInput } from '@mantine/core';
import type { JsonSchema } from './api.ts';

const typeOf = (s: JsonSchema): string | undefined =>
  Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;

/** The parameters a form starts with: every default of the schema. */
export function defaultsOf(schema: JsonSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(schema.properties ?? {})) if (p.default !== undefined) out[k] = p.default;
  return out;
}

const label = (name: string) => name.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());

interface SchemaFormProps {
  schema: JsonSchema;
  value: Record<string, unknown>;
  onChange: (next: Record<string, unknown>) => void;
  /** Errors from the server by parameter name. */
  errors?: Record<string, string>;
}

/**
 * A form generated from a model's JSON schema: numbers with their bounds, choices as selects,
 * switches for booleans, text otherwise. Out-of-range values are still sent: the server's answer
 * (a 400 naming the parameter) is the authority and is shown under the field.
 */
export function SchemaForm({ schema, value, onChange, errors = {} }: SchemaFormProps) {
  const props = Object.entries(schema.properties ?? {});
  if (props.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        This model takes no parameters.
      </Text>
    );
  }
  const set = (k: string, v: unknown) => {
    const next = { ...value };
    if (v === undefined || v === '') delete next[k];
    else next[k] = v;
    onChange(next);
  };
  return (
    <Stack gap="sm">
      {props.map(([name, p]) => {
        const required = schema.required?.includes(name) ?? false;
        const common = {
          label: label(name),
          description: p.description,
          error: errors[name],
          required,
          'data-testid': `param-${name}`,
        };
        const t = typeOf(p);
        if (p.enum) {
          return (
            <Select
              key={name}
              {...common}
              data={p.enum.map((e) => ({ value: String(e), label: String(e) }))}
              value={typeof value[name] === 'string' || typeof value[name] === 'number' ? String(value[name]) : null}
              onChange={(v) => set(name, v ?? undefined)}
              clearable={!required && p.default === undefined}
            />
          );
        }
        if (t === 'number' || t === 'integer') {
          const min = p.minimum ?? p.exclusiveMinimum;
          const max = p.maximum ?? p.exclusiveMaximum;
          return (
            <NumberInput
              key={name}
              {...common}
              value={typeof value[name] === 'number' ? value[name] : ''}
              onChange={(v) => set(name, typeof v === 'number' ? v : v === '' ? undefined : Number(v))}
              min={min}
              max={max}
              step={t === 'integer' ? 1 : max !== undefined && max <= 1 ? 0.05 : 1}
              allowDecimal={t !== 'integer'}
              clampBehavior="none"
            />
          );
        }
        if (t === 'boolean') {
          return (
            <Switch
              key={name}
              label={common.label}
              description={p.description}
              checked={value[name] === true}
              onChange={(e) => set(name, e.currentTarget.checked)}
              data-testid={common['data-testid']}
            />
          );
        }
        return (
          <TextInput
            key={name}
            {...common}
            value={typeof value[name] === 'string' ? value[name] : ''}
            onChange={(e) => set(name, e.currentTarget.value)}
          />
        );
      })}
    </Stack>
  );
}
