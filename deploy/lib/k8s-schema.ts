import * as models from 'kubernetes-models';
import type { K8sObject } from './kustomize.ts';

/**
 * Validation of rendered objects against the Kubernetes OpenAPI schemas shipped by
 * kubernetes-models. Its validators accept unknown fields (the schemas do not close objects), so a
 * misspelt `readinesProbe` would pass; `unknownFields` catches those by watching which properties
 * the generated validator reads.
 */

type ValidateFn = ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };
type ModelClass = new (data: unknown) => { validate(): void };

/** apiVersion → the module namespace of kubernetes-models and the prefix of its schema files. */
const GROUPS: Record<string, { ns: Record<string, unknown>; schema: string }> = {
  v1: { ns: models.v1, schema: 'IoK8sApiCoreV1' },
  'apps/v1': { ns: models.apps.v1, schema: 'IoK8sApiAppsV1' },
  'batch/v1': { ns: models.batch.v1, schema: 'IoK8sApiBatchV1' },
  'autoscaling/v2': {
    ns: models.autoscaling.v2,
    schema: 'IoK8sApiAutoscalingV2',
  },
  'policy/v1': { ns: models.policy.v1, schema: 'IoK8sApiPolicyV1' },
  'networking.k8s.io/v1': {
    ns: models.networkingK8sIo.v1,
    schema: 'IoK8sApiNetworkingV1',
  },
};

export function isCoreKind(o: Pick<K8sObject, 'apiVersion' | 'kind'>): boolean {
  return Boolean(GROUPS[o.apiVersion]?.ns[o.kind]);
}

/** Throws with the validator's message when the object breaks its schema. */
export function validateObject(o: K8sObject): void {
  const group = GROUPS[o.apiVersion];
  const Model = group?.ns[o.kind] as ModelClass | undefined;
  if (!Model) throw new Error(`${o.apiVersion} ${o.kind} has no schema here`);
  new Model(o.kind === 'Secret' ? unwrapSecretData(o) : o).validate();
}

/**
 * kustomize wraps long base64 values at 70 characters. The API server's decoder (Go's base64)
 * skips line breaks, the schema's "byte" format does not; compare what the server would decode.
 */
function unwrapSecretData(o: K8sObject): K8sObject {
  const data = o.data as Record<string, string> | undefined;
  if (!data) return o;
  return { ...o, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.replace(/\r?\n/g, '')])) };
}

const schemaCache = new Map<string, ValidateFn>();

async function schemaValidator(o: K8sObject): Promise<ValidateFn> {
  const group = GROUPS[o.apiVersion];
  if (!group) throw new Error(`${o.apiVersion} has no schema here`);
  const name = `${group.schema}${o.kind}`;
  let fn = schemaCache.get(name);
  if (!fn) {
    // The schema modules are not in the package's exports map; load them by file, beside its entry point.
    const file = new URL(`./_schemas/${name}.mjs`, import.meta.resolve('kubernetes-models'));
    const mod = (await import(file.href)) as { validate: ValidateFn };
    fn = mod.validate;
    schemaCache.set(name, fn);
  }
  return fn;
}

/**
 * JSON pointers of properties the schema does not define. The generated validator reads every
 * property it knows and enumerates the keys of free-form maps (labels, data…); whatever it neither
 * read nor enumerated is unknown to Kubernetes.
 */
export async function unknownFields(o: K8sObject): Promise<string[]> {
  const validate = await schemaValidator(o);
  const read = new Set<string>();
  const enumerated = new Set<string>();
  const track = (value: unknown, at: string): unknown => {
    if (value === null || typeof value !== 'object') return value;
    return new Proxy(value, {
      get(target, key, receiver) {
        const v: unknown = Reflect.get(target, key, receiver);
        if (typeof key !== 'string' || !Object.prototype.hasOwnProperty.call(target, key)) return v;
        read.add(`${at}/${key}`);
        return track(v, `${at}/${key}`);
      },
      ownKeys(target) {
        enumerated.add(at);
        return Reflect.ownKeys(target);
      },
    });
  };
  validate(track(o, ''));
  const unknown: string[] = [];
  const walk = (value: unknown, at: string) => {
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${at}/${i}`));
      return;
    }
    for (const [k, v] of Object.entries(value)) {
      const p = `${at}/${k}`;
      if (!enumerated.has(at) && !read.has(p)) unknown.push(p);
      walk(v, p);
    }
  };
  walk(o, '');
  return unknown;
}
