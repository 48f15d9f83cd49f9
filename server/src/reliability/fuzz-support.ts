import fc from 'fast-check';

/**
 * Structure-aware input generation for fuzzing: arbitraries built from the JSON schemas the API
 * publishes (generated from the routes' zod schemas), mixed with junk that ignores them.
 */

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  format?: string;
  pattern?: string;
  additionalProperties?: boolean | JsonSchema;
}

/** Strings that have broken parsers before: huge, control characters, injections, lookalikes. */
export const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\ud800',
  '🙂'.repeat(50),
  "' OR 1=1 --",
  '"; DROP TABLE users; --',
  '../../etc/passwd',
  '%00',
  '<script>alert(1)</script>',
  '${7*7}',
  '__proto__',
  'constructor',
  'NaN',
  'Infinity',
  '-1',
  '1e309',
  '9'.repeat(400),
  'a'.repeat(70_000),
  '2025-02-30T25:61:61Z',
  '01HZZZZZZZZZZZZZZZZZZZZZZZ',
  '\r\n\r\n',
  'null',
];

const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(...NASTY_STRINGS),
  fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, -0, 2 ** 53, -(2 ** 63), 1e308, [], {}),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double(),
);

function scalarFor(s: JsonSchema): fc.Arbitrary<unknown> {
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type ?? '') {
    case 'string': {
      if (s.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
      if (s.format === 'date') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
      if (s.format === 'email') return fc.emailAddress();
      if (s.pattern) {
        try {
          return fc.stringMatching(new RegExp(s.pattern)).filter((x) => x.length <= 200);
        } catch {
          // a pattern JavaScript cannot take: fall through to plain strings
        }
      }
      return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 40, 200) });
    }
    case 'integer':
      return fc.integer({ min: Math.max(s.minimum ?? -1000, -1e9), max: Math.min(s.maximum ?? 1000, 1e9) });
    case 'number':
      return fc.double({ min: s.minimum ?? -1000, max: s.maximum ?? 1000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return junk;
  }
}

/** A value shaped like `schema` (usually valid), to depth 4; below that, junk. */
export function fromSchema(schema: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return junk;
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum?.length) return fc.constantFrom(...schema.enum);
  const alts = schema.anyOf ?? schema.oneOf;
  if (alts?.length) return fc.oneof(...alts.map((a) => fromSchema(a, depth + 1)));
  if (schema.allOf?.length) return fromSchema(schema.allOf[0], depth + 1);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  if (type === 'object' || schema.properties) {
    const props = schema.properties ?? {};
    const required = new Set(schema.required ?? []);
    const shape: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [k, v] of Object.entries(props)) shape[k] = fromSchema(v, depth + 1);
    return fc.record(shape, { requiredKeys: Object.keys(props).filter((k) => required.has(k)) });
  }
  if (type === 'array') return fc.array(fromSchema(schema.items, depth + 1), { maxLength: 5 });
  return scalarFor(schema);
}

/**
 * Mostly near-valid values (the schema's shape with one field broken), some fully valid, some
 * junk of any shape: the mix that finds bugs past the validator as well as in it.
 */
export function fuzzValue(schema: JsonSchema | undefined): fc.Arbitrary<unknown> {
  const valid = fromSchema(schema);
  const broken = fc
    .tuple(valid, fc.string({ maxLength: 12 }), junk)
    .map(([v, key, bad]) =>
      v && typeof v === 'object' && !Array.isArray(v) ? { ...v, [Object.keys(v)[0] ?? key]: bad } : bad,
    );
  return fc.oneof(
    { weight: 4, arbitrary: valid },
    { weight: 3, arbitrary: broken },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    { weight: 1, arbitrary: junk },
  );
}

/** Random bytes with a bias to small sizes and to bytes that are structural in most formats. */
export const bytes = (maxLength = 4096) =>
  fc.oneof(
    fc.uint8Array({ maxLength }).map((a) => Buffer.from(a)),
    fc
      .array(fc.constantFrom(0x00, 0xff, 0x0a, 0x0d, 0x22, 0x2c, 0x7b, 0x7d, 0x3a, 0x50, 0x4b), { maxLength: 64 })
      .map((a) => Buffer.from(a)),
  );

/** A mutation of a valid input: flipped bytes, a cut, a spliced run, an inserted run, or a repeat. */
export function mutate(seed: Buffer): fc.Arbitrary<Buffer> {
  const len = Math.max(seed.length, 1);
  return fc.oneof(
    fc.array(fc.tuple(fc.nat(len - 1), fc.nat(255)), { minLength: 1, maxLength: 16 }).map((flips) => {
      const b = Buffer.from(seed);
      for (const [i, v] of flips) b[i] = v;
      return b;
    }),
    fc.nat(len).map((n) => seed.subarray(0, n)),
    fc
      .tuple(fc.nat(len), fc.uint8Array({ minLength: 1, maxLength: 512 }))
      .map(([at, ins]) => Buffer.concat([seed.subarray(0, at), Buffer.from(ins), seed.subarray(at)])),
    fc.tuple(fc.nat(len), fc.nat(len)).map(([a, b]) => {
      const [lo, hi] = a < b ? [a, b] : [b, a];
      return Buffer.concat([seed.subarray(0, hi), seed.subarray(lo, hi), seed.subarray(hi)]);
    }),
    fc.tuple(fc.nat(len), fc.nat(len)).map(([a, b]) => Buffer.concat([seed.subarray(0, a), seed.subarray(b)])),
  );
}

/** Memory of this process, checked after every few cases. */
export const RSS_BOUND_BYTES = 3 * 1024 ** 3;
export function rssMiB(): number {
  return Math.round(process.memoryUsage().rss / 1024 ** 2);
}
