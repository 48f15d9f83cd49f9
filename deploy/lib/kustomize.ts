import fs from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

/**
 * A small kustomize renderer covering exactly the features the manifests in deploy/k8s use, so the
 * tests can render every overlay on machines without kubectl. Anything outside that subset throws,
 * which keeps the manifests inside it; where kubectl is installed the tests also compare this
 * output with `kubectl kustomize`.
 *
 * Supported: resources (files and directories), components, namespace, patches (strategic merge,
 * matched by the patch's own kind and name, including `$patch: delete`), images, configMapGenerator
 * and secretGenerator (literals and env files) with generatorOptions.disableNameSuffixHash: true.
 */

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Generator {
  name: string;
  behavior?: 'create' | 'merge' | 'replace';
  literals?: string[];
  envs?: string[];
  type?: string;
}

interface Kustomization {
  apiVersion?: string;
  kind?: 'Kustomization' | 'Component';
  namespace?: string;
  resources?: string[];
  components?: string[];
  patches?: { path?: string; patch?: string }[];
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  configMapGenerator?: Generator[];
  secretGenerator?: Generator[];
  generatorOptions?: { disableNameSuffixHash?: boolean };
}

const KNOWN_FIELDS = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'resources',
  'components',
  'patches',
  'images',
  'configMapGenerator',
  'secretGenerator',
  'generatorOptions',
]);
const GENERATOR_FIELDS = new Set(['name', 'behavior', 'literals', 'envs', 'type']);

/** Kinds that live outside namespaces; the namespace transformer leaves them alone. */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
  'GatewayClass',
]);

/** Lists merged item by item in strategic merge patches, keyed by this field (Kubernetes patchMergeKey). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  imagePullSecrets: 'name',
};

export class KustomizeError extends Error {}

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

function readKustomization(dir: string): Kustomization {
  const file = KUSTOMIZATION_FILES.map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  if (!file) throw new KustomizeError(`no kustomization file in ${dir}`);
  const k = parse(fs.readFileSync(file, 'utf8')) as Kustomization;
  for (const key of Object.keys(k)) {
    if (!KNOWN_FIELDS.has(key)) throw new KustomizeError(`${file}: field "${key}" is not supported by this renderer`);
  }
  for (const g of [...(k.configMapGenerator ?? []), ...(k.secretGenerator ?? [])]) {
    for (const key of Object.keys(g)) {
      if (!GENERATOR_FIELDS.has(key)) throw new KustomizeError(`${file}: generator field "${key}" is not supported`);
    }
  }
  if (
    (k.configMapGenerator?.length || k.secretGenerator?.length) &&
    k.generatorOptions?.disableNameSuffixHash !== true
  ) {
    throw new KustomizeError(`${file}: generators need generatorOptions.disableNameSuffixHash: true here`);
  }
  return k;
}

function readObjects(file: string): K8sObject[] {
  const docs = parseAllDocuments(fs.readFileSync(file, 'utf8'));
  const out: K8sObject[] = [];
  for (const doc of docs) {
    if (doc.errors.length) throw new KustomizeError(`${file}: ${doc.errors[0].message}`);
    const obj = doc.toJS() as K8sObject | null;
    if (obj === null) continue;
    if (!obj.apiVersion || !obj.kind || !obj.metadata?.name) {
      throw new KustomizeError(`${file}: every object needs apiVersion, kind and metadata.name`);
    }
    out.push(obj);
  }
  return out;
}

export const objectId = (o: K8sObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Strategic merge of `patch` into `target` (a new value; inputs untouched). */
export function strategicMerge(target: Json, patch: Json, field = ''): Json {
  if (patch === null) return null;
  if (Array.isArray(patch)) {
    const key = MERGE_KEYS[field];
    if (!key || !Array.isArray(target)) return structuredClone(patch);
    const out = structuredClone(target) as JsonObject[];
    for (const item of patch as JsonObject[]) {
      const idx = out.findIndex((o) => isObject(o) && o[key] === item[key]);
      if (item.$patch === 'delete') {
        if (idx >= 0) out.splice(idx, 1);
      } else if (idx >= 0) {
        out[idx] = strategicMerge(out[idx], item) as JsonObject;
      } else {
        out.push(structuredClone(item));
      }
    }
    return out;
  }
  if (!isObject(patch)) return patch;
  if (patch.$patch === 'replace') {
    const { $patch: _, ...rest } = patch;
    return structuredClone(rest);
  }
  const out: JsonObject = isObject(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = strategicMerge(out[k] ?? null, v, k);
  }
  return out;
}

function applyPatch(objects: K8sObject[], patch: K8sObject, where: string): K8sObject[] {
  const matches = objects.filter(
    (o) =>
      o.kind === patch.kind &&
      o.metadata.name === patch.metadata.name &&
      (patch.metadata.namespace === undefined || o.metadata.namespace === patch.metadata.namespace),
  );
  if (matches.length !== 1) {
    throw new KustomizeError(
      `${where}: patch for ${patch.kind}/${patch.metadata.name} matches ${matches.length} objects`,
    );
  }
  const target = matches[0];
  if ((patch as JsonObject).$patch === 'delete') return objects.filter((o) => o !== target);
  return objects.map((o) =>
    o === target ? (strategicMerge(o as unknown as Json, patch as unknown as Json) as K8sObject) : o,
  );
}

function podSpecs(o: K8sObject): JsonObject[] {
  const spec = o.spec as JsonObject | undefined;
  if (!spec) return [];
  if (o.kind === 'Pod') return [spec];
  if (o.kind === 'CronJob') {
    const job = (spec.jobTemplate as JsonObject | undefined)?.spec as JsonObject | undefined;
    const pod = (job?.template as JsonObject | undefined)?.spec;
    return isObject(pod) ? [pod] : [];
  }
  const pod = (spec.template as JsonObject | undefined)?.spec;
  return isObject(pod) ? [pod] : [];
}

/** Splits `name[:tag][@digest]`; a colon inside the registry host's port is not a tag. */
export function splitImage(image: string): { name: string; tag?: string; digest?: string } {
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) return { name: rest.slice(0, colon), tag: rest.slice(colon + 1), digest };
  return { name: rest, digest };
}

function applyImages(objects: K8sObject[], images: NonNullable<Kustomization['images']>): void {
  for (const o of objects) {
    for (const pod of podSpecs(o)) {
      for (const list of ['containers', 'initContainers']) {
        for (const c of (pod[list] as JsonObject[] | undefined) ?? []) {
          if (typeof c.image !== 'string') continue;
          const current = splitImage(c.image);
          const rule = images.find((i) => i.name === current.name);
          if (!rule) continue;
          const name = rule.newName ?? current.name;
          if (rule.digest) c.image = `${name}@${rule.digest}`;
          else {
            const tag = rule.newTag ?? current.tag;
            c.image = `${name}${tag ? `:${tag}` : ''}${!rule.newTag && current.digest ? `@${current.digest}` : ''}`;
          }
        }
      }
    }
  }
}

function parseEnvLines(text: string, where: string): [string, string][] {
  const out: [string, string][] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new KustomizeError(`${where}: "${line}" is not KEY=VALUE`);
    out.push([line.slice(0, eq), line.slice(eq + 1)]);
  }
  return out;
}

function generatorData(g: Generator, dir: string): Record<string, string> {
  const data: Record<string, string> = {};
  for (const file of g.envs ?? []) {
    for (const [k, v] of parseEnvLines(fs.readFileSync(path.join(dir, file), 'utf8'), file)) data[k] = v;
  }
  for (const [k, v] of parseEnvLines((g.literals ?? []).join('\n'), `${g.name} literals`)) {
    // kustomize strips one pair of matching quotes around a literal's value.
    data[k] = /^(['"]).*\1$/s.test(v) ? v.slice(1, -1) : v;
  }
  return data;
}

/** Base64 as kustomize writes Secret data: lines of 70 characters, newline-terminated when wrapped. */
function kustomizeBase64(value: string): string {
  const encoded = Buffer.from(value).toString('base64');
  if (encoded.length <= 70) return encoded;
  return `${encoded.match(/.{1,70}/g)!.join('\n')}\n`;
}

function generate(objects: K8sObject[], k: Kustomization, dir: string): K8sObject[] {
  let out = objects;
  const run = (kind: 'ConfigMap' | 'Secret', gens: Generator[]) => {
    for (const g of gens) {
      const data = generatorData(g, dir);
      const encoded =
        kind === 'Secret'
          ? Object.fromEntries(Object.entries(data).map(([key, v]) => [key, kustomizeBase64(v)]))
          : data;
      const behavior = g.behavior ?? 'create';
      const existing = out.find((o) => o.kind === kind && o.metadata.name === g.name);
      if (behavior === 'create') {
        if (existing) throw new KustomizeError(`${kind} ${g.name} already exists; use behavior merge or replace`);
        const obj: K8sObject = { apiVersion: 'v1', kind, metadata: { name: g.name } };
        if (kind === 'Secret') obj.type = g.type ?? 'Opaque';
        obj.data = encoded;
        out = [...out, obj];
      } else {
        if (!existing) throw new KustomizeError(`${kind} ${g.name} to ${behavior} does not exist`);
        const merged = behavior === 'merge' ? { ...(existing.data as object), ...encoded } : encoded;
        out = out.map((o) => (o === existing ? { ...o, data: merged } : o));
      }
    }
  };
  run('ConfigMap', k.configMapGenerator ?? []);
  run('Secret', k.secretGenerator ?? []);
  return out;
}

function ensureUnique(objects: K8sObject[], where: string): void {
  const seen = new Set<string>();
  for (const o of objects) {
    const id = objectId(o);
    if (seen.has(id)) throw new KustomizeError(`${where}: ${id} is defined twice`);
    seen.add(id);
  }
}

/** Renders the kustomization in `dir` (a Kustomization or, when `into` is given, a Component applied to it). */
export function render(dir: string, into?: K8sObject[]): K8sObject[] {
  const k = readKustomization(dir);
  const isComponent = k.kind === 'Component';
  if (isComponent !== (into !== undefined)) {
    throw new KustomizeError(
      `${dir}: ${isComponent ? 'a Component must be listed under components' : 'not a Component'}`,
    );
  }
  let objects: K8sObject[] = into ? structuredClone(into) : [];
  for (const r of k.resources ?? []) {
    const p = path.resolve(dir, r);
    if (fs.statSync(p).isDirectory()) objects.push(...render(p));
    else objects.push(...readObjects(p));
  }
  ensureUnique(objects, dir);
  // kustomize's order: resources, then components, then this kustomization's generators and transformers.
  for (const c of k.components ?? []) objects = render(path.resolve(dir, c), objects);
  objects = generate(objects, k, dir);
  ensureUnique(objects, dir);
  if (k.namespace) {
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  for (const p of k.patches ?? []) {
    const text = p.path ? fs.readFileSync(path.join(dir, p.path), 'utf8') : p.patch;
    if (!text) throw new KustomizeError(`${dir}: a patch needs path or patch`);
    for (const doc of parseAllDocuments(text)) {
      const patch = doc.toJS() as K8sObject | null;
      if (patch) objects = applyPatch(objects, patch, dir);
    }
  }
  if (k.images) applyImages(objects, k.images);
  return objects;
}
