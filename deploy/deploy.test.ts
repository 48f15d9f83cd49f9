import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { registerCommands } from '../server/src/cli/commands.ts';
import { registerLoadCommand } from '../server/src/cli/load.command.ts';
import { envSchema, loadConfig } from '../server/src/config.ts';
import { resolveOptions, type RawOptions } from '../server/src/loadgen/options.ts';
import { parseBlobUrl } from '../server/src/platform/blobs/blob-url.ts';
import { isCoreKind, unknownFields, validateObject } from './lib/k8s-schema.ts';
import { objectId, render, splitImage, strategicMerge, type Json, type K8sObject } from './lib/kustomize.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const K8S = path.join(ROOT, 'deploy/k8s');
const ENV_KEYS = new Set(Object.keys(envSchema.shape));
/** The keys of the Secret aula-secrets, as docs/deploy.md tells operators to create it. */
const SECRET_KEYS = ['AULA_ADMIN_PASSWORD', 'BLOB_URL', 'DATABASE_URL', 'REDIS_URL', 'SESSION_SECRET'];

// A kustomization that adds the Gateway API component to the dev overlay, as docs/deploy.md shows.
const gatewayDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-gateway-'));
fs.writeFileSync(
  path.join(gatewayDir, 'kustomization.yaml'),
  [
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    'namespace: aula',
    'resources:',
    `  - ${path.relative(gatewayDir, path.join(K8S, 'overlays/dev'))}`,
    'components:',
    `  - ${path.relative(gatewayDir, path.join(K8S, 'components/gateway-api'))}`,
    '',
  ].join('\n'),
);
afterAll(() => fs.rmSync(gatewayDir, { recursive: true, force: true }));

const TARGETS: Record<string, string> = {
  base: path.join(K8S, 'base'),
  dev: path.join(K8S, 'overlays/dev'),
  prod: path.join(K8S, 'overlays/prod'),
  'base jobs': path.join(K8S, 'base/jobs'),
  'dev jobs': path.join(K8S, 'overlays/dev/jobs'),
  'prod jobs': path.join(K8S, 'overlays/prod/jobs'),
  'dev + gateway-api': gatewayDir,
};
const rendered: Record<string, K8sObject[]> = Object.fromEntries(
  Object.entries(TARGETS).map(([name, dir]) => [name, render(dir)]),
);
const PLATFORM = ['base', 'dev', 'prod', 'dev + gateway-api'];
const JOBS = ['base jobs', 'dev jobs', 'prod jobs'];

// ---- small accessors over plain objects ------------------------------------------------------

type Obj = Record<string, any>;
const ofKind = (objs: K8sObject[], kind: string): Obj[] => objs.filter((o) => o.kind === kind);
const byName = (objs: K8sObject[], kind: string, name: string): Obj => {
  const found = ofKind(objs, kind).find((o) => o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} not rendered`);
  return found;
};
const podSpec = (o: Obj): Obj => o.spec.template.spec;
const podLabels = (o: Obj): Record<string, string> => o.spec.template.metadata?.labels ?? {};
const containers = (o: Obj): Obj[] => [...(podSpec(o).initContainers ?? []), ...podSpec(o).containers];
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
const cpuCores = (v: string): number => (v.endsWith('m') ? Number(v.slice(0, -1)) / 1000 : Number(v));
const isAulaImage = (image: string) => /(^|\/)aula$/.test(splitImage(image).name);
const workloads = (objs: K8sObject[]): Obj[] =>
  objs.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));

function selectorMatches(sel: Obj, labels: Record<string, string>): boolean {
  if (sel.matchLabels && !matches(sel.matchLabels, labels)) return false;
  for (const e of sel.matchExpressions ?? []) {
    const v = labels[e.key];
    if (e.operator === 'In' && !e.values.includes(v)) return false;
    if (e.operator === 'NotIn' && e.values.includes(v)) return false;
    if (e.operator === 'Exists' && v === undefined) return false;
    if (e.operator === 'DoesNotExist' && v !== undefined) return false;
  }
  return true;
}

/** The environment one container sees: its ConfigMaps and Secrets (when rendered), then its own env. */
function containerEnv(objs: K8sObject[], c: Obj): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) {
      const cm = ofKind(objs, 'ConfigMap').find((o) => o.metadata.name === from.configMapRef.name);
      Object.assign(env, cm?.data ?? {});
    }
    if (from.secretRef) {
      const s = ofKind(objs, 'Secret').find((o) => o.metadata.name === from.secretRef.name);
      for (const [k, v] of Object.entries<string>(s?.data ?? {})) env[k] = Buffer.from(v, 'base64').toString();
    }
  }
  for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  return env;
}

/**
 * Parses arguments with the real `aula` command tree (argument checks included) and returns the
 * path of the command that would run; no action runs and no configuration is read.
 */
async function parseCli(args: string[]): Promise<string[] | undefined> {
  const program = new Command('aula').exitOverride();
  registerCommands(program, () => {
    throw new Error('configuration is not read while parsing');
  });
  let ran: string[] | undefined;
  const hook = (cmd: Command, at: string[]) => {
    for (const sub of cmd.commands) {
      const here = [...at, sub.name()];
      sub.exitOverride();
      if (sub.commands.length === 0) {
        sub.action(() => {
          ran = here;
        });
      }
      hook(sub, here);
    }
  };
  hook(program, []);
  await program.parseAsync(args, { from: 'user' });
  return ran;
}

// ---- the renderer itself ---------------------------------------------------------------------

describe('kustomize renderer', () => {
  it('merges lists by their Kubernetes merge key and replaces the others', () => {
    const base: Json = {
      containers: [
        { name: 'a', image: 'x', args: ['1', '2'], env: [{ name: 'K', value: '1' }] },
        { name: 'b', image: 'y' },
      ],
    };
    const merged = strategicMerge(base, {
      containers: [
        { name: 'a', args: ['3'], env: [{ name: 'L', value: '2' }] },
        { name: 'c', image: 'z' },
      ],
    }) as Obj;
    expect(merged.containers).toEqual([
      {
        name: 'a',
        image: 'x',
        args: ['3'],
        env: [
          { name: 'K', value: '1' },
          { name: 'L', value: '2' },
        ],
      },
      { name: 'b', image: 'y' },
      { name: 'c', image: 'z' },
    ]);
    expect(strategicMerge({ a: 1, b: { c: 2 } }, { b: null })).toEqual({ a: 1 });
  });

  it('splits image references without mistaking a registry port for a tag', () => {
    expect(splitImage('registry:5000/team/aula')).toEqual({
      name: 'registry:5000/team/aula',
      tag: undefined,
      digest: undefined,
    });
    expect(splitImage('aula:1.2@sha256:abc')).toEqual({ name: 'aula', tag: '1.2', digest: 'sha256:abc' });
  });

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!kubectl).each(Object.keys(TARGETS))('renders %s exactly as kubectl kustomize does', (name) => {
    const r = spawnSync('kubectl', ['kustomize', TARGETS[name]], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const theirs = parseAllDocuments(r.stdout)
      .map((d) => d.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => o !== null);
    const index = (objs: K8sObject[]) => Object.fromEntries(objs.map((o) => [objectId(o), o]));
    expect(index(rendered[name])).toEqual(index(theirs));
  });
});

// ---- every rendered object is a valid Kubernetes object ----------------------------------------

describe.each(Object.keys(TARGETS))('%s: objects', (name) => {
  const objs = rendered[name];

  it('are valid against the Kubernetes schemas, with no unknown fields', async () => {
    expect(objs.length).toBeGreaterThan(0);
    for (const o of objs) {
      if (!isCoreKind(o)) continue;
      expect(() => validateObject(o), objectId(o)).not.toThrow();
      expect(await unknownFields(o), objectId(o)).toEqual([]);
    }
  });

  it('are all of kinds this project knows how to check', () => {
    const other = objs.filter((o) => !isCoreKind(o)).map((o) => `${o.apiVersion} ${o.kind}`);
    const allowed =
      name === 'dev + gateway-api'
        ? ['gateway.networking.k8s.io/v1 Gateway', 'gateway.networking.k8s.io/v1 HTTPRoute']
        : [];
    expect(other.sort()).toEqual(allowed);
  });

  it('live in the aula namespace', () => {
    for (const o of objs) {
      if (o.kind === 'Namespace') expect(o.metadata.name).toBe('aula');
      else expect(o.metadata.namespace, objectId(o)).toBe('aula');
    }
  });

  it('name pinned images, never latest', () => {
    for (const w of workloads(objs)) {
      for (const c of containers(w)) {
        const { tag, digest } = splitImage(c.image);
        expect(tag ?? digest, `${w.metadata.name}/${c.name}: ${c.image}`).toBeTruthy();
        expect(tag, c.image).not.toBe('latest');
      }
    }
  });

  it('use only environment variables that server/src/config.ts declares', () => {
    for (const o of [...ofKind(objs, 'ConfigMap'), ...ofKind(objs, 'Secret')]) {
      for (const key of Object.keys({ ...o.data, ...o.stringData })) {
        expect(ENV_KEYS.has(key), `${o.kind}/${o.metadata.name}: ${key}`).toBe(true);
      }
    }
    for (const w of workloads(objs)) {
      for (const c of containers(w)) {
        if (!isAulaImage(c.image)) continue;
        for (const e of c.env ?? []) {
          if (w.kind === 'Job' && e.valueFrom?.fieldRef) {
            // Downward API values exist only to be substituted into the Job's arguments.
            expect(
              c.args.some((a: string) => a.includes(`$(${e.name})`)),
              `${w.metadata.name}: ${e.name}`,
            ).toBe(true);
            continue;
          }
          expect(ENV_KEYS.has(e.name), `${w.kind}/${w.metadata.name}: ${e.name}`).toBe(true);
        }
      }
    }
  });

  it('run every pod under the restricted Pod Security Standard', () => {
    for (const w of workloads(objs)) {
      const pod = podSpec(w);
      const where = `${w.kind}/${w.metadata.name}`;
      expect(pod.securityContext?.runAsNonRoot, where).toBe(true);
      expect(pod.securityContext?.seccompProfile?.type, where).toBe('RuntimeDefault');
      expect(pod.hostNetwork ?? false, where).toBe(false);
      for (const c of containers(w)) {
        expect(c.securityContext?.allowPrivilegeEscalation, `${where}/${c.name}`).toBe(false);
        expect(c.securityContext?.capabilities?.drop, `${where}/${c.name}`).toEqual(['ALL']);
        expect(c.securityContext?.privileged ?? false).toBe(false);
        expect(c.securityContext?.capabilities?.add).toBeUndefined();
      }
      for (const v of pod.volumes ?? []) expect(v.hostPath, `${where} volume ${v.name}`).toBeUndefined();
    }
  });

  it('select pods that exist with every Service, and name container ports that exist', () => {
    for (const svc of ofKind(objs, 'Service')) {
      const targets = workloads(objs).filter((w) => w.kind !== 'Job' && matches(svc.spec.selector, podLabels(w)));
      expect(targets.length, `Service/${svc.metadata.name}`).toBeGreaterThan(0);
      for (const p of svc.spec.ports) {
        if (typeof p.targetPort !== 'string') continue;
        const named = targets.flatMap((w) => containers(w).flatMap((c) => c.ports ?? [])).map((cp) => cp.name);
        expect(named, `Service/${svc.metadata.name} port ${p.targetPort}`).toContain(p.targetPort);
      }
    }
  });

  it('give every Deployment and StatefulSet a selector matching its own pod labels', () => {
    for (const w of workloads(objs).filter((o) => o.kind !== 'Job')) {
      expect(matches(w.spec.selector.matchLabels, podLabels(w)), w.metadata.name).toBe(true);
    }
  });
});

// ---- the long-running platform ----------------------------------------------------------------

describe.each(PLATFORM)('%s: Aula Deployments', (name) => {
  const objs = rendered[name];
  const deployments = ofKind(objs, 'Deployment');

  it('has one Deployment per role of the image, each running that role', () => {
    const roles = Object.fromEntries(deployments.map((d) => [d.metadata.name, podSpec(d).containers[0].args]));
    expect(roles).toEqual({
      'aula-api': ['serve', 'api'],
      'aula-api-forward': ['serve', 'api'],
      'aula-ingest-grpc': ['serve', 'ingest-grpc'],
      'aula-worker': ['serve', 'worker'],
    });
    expect(
      containerEnv(objs, podSpec(byName(objs, 'Deployment', 'aula-api-forward')).containers[0]).GRADES_FORWARD_GRPC,
    ).toBe('aula-ingest-grpc:50051');
    expect(
      containerEnv(objs, podSpec(byName(objs, 'Deployment', 'aula-api')).containers[0]).GRADES_FORWARD_GRPC,
    ).toBeUndefined();
  });

  it('runs commands that the aula CLI defines, with arguments it accepts', async () => {
    for (const d of deployments) {
      const c = podSpec(d).containers[0];
      expect(await parseCli(c.args), d.metadata.name).toEqual(c.args.slice(0, 1));
    }
  });

  it('sets requests, limits and startup, liveness and readiness probes on every container', () => {
    for (const d of deployments) {
      for (const c of containers(d)) {
        const where = `${d.metadata.name}/${c.name}`;
        for (const r of ['cpu', 'memory']) {
          expect(c.resources?.requests?.[r], `${where} requests.${r}`).toBeDefined();
          expect(c.resources?.limits?.[r], `${where} limits.${r}`).toBeDefined();
        }
        for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
          expect(c[probe], `${where} ${probe}`).toBeDefined();
        }
        const http = [c.startupProbe, c.livenessProbe, c.readinessProbe].filter((p) => p.httpGet);
        for (const p of http) {
          expect(['/health/live', '/health/ready']).toContain(p.httpGet.path);
          expect((c.ports ?? []).map((cp: Obj) => cp.name)).toContain(p.httpGet.port);
        }
        if (c.readinessProbe.httpGet) expect(c.readinessProbe.httpGet.path).toBe('/health/ready');
        if (c.livenessProbe.httpGet) expect(c.livenessProbe.httpGet.path).toBe('/health/live');
      }
    }
  });

  it('probes the worker on the inference processes that the vision pool really forks', () => {
    const c = podSpec(byName(objs, 'Deployment', 'aula-worker')).containers[0];
    const pool = fs.readFileSync(path.join(ROOT, 'server/src/vision/pool.ts'), 'utf8');
    expect(pool).toMatch(/fork\(WORKER_FILE\b/);
    expect(pool).toContain("path.join(import.meta.dirname, 'worker.ts')");
    for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) {
      const [shell, flag, script] = probe.exec.command as string[];
      expect([shell, flag]).toEqual(['sh', '-c']);
      const m = /^grep -qs (\S+) \/proc\/\[0-9\]\*\/cmdline$/.exec(script);
      expect(m, script).not.toBeNull();
      const pattern = new RegExp(m![1]);
      // Matches the forked process's command line, never the probe's own.
      expect(pattern.test(`node --import tsx ${path.join('/app/server/src/vision', 'worker.ts')}`)).toBe(true);
      expect(pattern.test(script)).toBe(false);
      expect(fs.existsSync(path.join(ROOT, 'server/src/vision/worker.ts'))).toBe(true);
    }
  });

  it('runs as uid 10001 on a read-only root filesystem, with /tmp and /app/data on emptyDir', () => {
    for (const d of deployments) {
      const pod = podSpec(d);
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 10001,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const c of containers(d)) {
        expect(c.securityContext).toMatchObject({
          runAsNonRoot: true,
          runAsUser: 10001,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        for (const mount of ['/tmp', '/app/data']) {
          const m = c.volumeMounts.find((v: Obj) => v.mountPath === mount);
          expect(m, `${d.metadata.name} ${mount}`).toBeDefined();
          expect(pod.volumes.find((v: Obj) => v.name === m.name).emptyDir).toBeDefined();
        }
      }
    }
  });

  it('leaves the replica count to an HPA: min 1, max 3 at 50% CPU for the API and gRPC roles', () => {
    const hpas = ofKind(objs, 'HorizontalPodAutoscaler');
    for (const d of deployments) {
      expect(d.spec.replicas, d.metadata.name).toBeUndefined();
      const hpa = hpas.filter(
        (h) => h.spec.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === d.metadata.name,
      );
      expect(hpa.length, d.metadata.name).toBe(1);
      const cpu = hpa[0].spec.metrics.find((m: Obj) => m.type === 'Resource' && m.resource.name === 'cpu');
      expect(cpu.resource.target.type).toBe('Utilization');
      expect(hpa[0].spec.minReplicas).toBeLessThanOrEqual(hpa[0].spec.maxReplicas);
    }
    for (const target of ['aula-api', 'aula-api-forward', 'aula-ingest-grpc']) {
      const hpa = byName(objs, 'HorizontalPodAutoscaler', target);
      expect(hpa.spec.metrics).toEqual([
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
      ]);
      // The seed's bounds everywhere but prod, which keeps two pods up for drains and rollouts.
      const bounds = name === 'prod' ? { minReplicas: 2, maxReplicas: 6 } : { minReplicas: 1, maxReplicas: 3 };
      expect(hpa.spec).toMatchObject(bounds);
    }
    expect(hpas.every((h) => h.apiVersion === 'autoscaling/v2')).toBe(true);
  });

  it('protects every Deployment with a PodDisruptionBudget that still allows a drain', () => {
    for (const d of deployments) {
      const pdbs = ofKind(objs, 'PodDisruptionBudget').filter((p) => selectorMatches(p.spec.selector, podLabels(d)));
      expect(pdbs.length, d.metadata.name).toBe(1);
      expect(pdbs[0].spec.maxUnavailable).toBe(1);
    }
  });

  it('gives every Aula container a configuration that the server accepts', () => {
    const secretRendered = ofKind(objs, 'Secret').some((s) => s.metadata.name === 'aula-secrets');
    expect(secretRendered).toBe(name === 'dev' || name === 'dev + gateway-api');
    for (const d of deployments) {
      const c = podSpec(d).containers[0];
      expect(c.envFrom).toEqual([{ configMapRef: { name: 'aula-config' } }, { secretRef: { name: 'aula-secrets' } }]);
      const env = containerEnv(objs, c);
      const config = loadConfig(env);
      // Never more inference processes than cores the pod may use (the default would count the node's).
      expect(Number(env.WORKERS), d.metadata.name).toBeGreaterThanOrEqual(1);
      expect(Number(env.WORKERS), d.metadata.name).toBeLessThanOrEqual(Math.ceil(cpuCores(c.resources.limits.cpu)));
      expect(config.nodeEnv).toBe('production');
      expect(config.trustProxy).toBe(true);
      expect(config.dataDir).toBe('/app/data');
      if (secretRendered) {
        expect(config.databaseUrl).toMatch(/^mysql:\/\//);
        expect(config.redisUrl).toBe('redis://redis:6379');
      }
    }
  });

  it('routes the Ingresses to Services and ports that exist', () => {
    for (const ing of ofKind(objs, 'Ingress')) {
      expect(ing.spec.ingressClassName).toBe('nginx');
      for (const rule of ing.spec.rules) {
        for (const p of rule.http.paths) {
          const svc = byName(objs, 'Service', p.backend.service.name);
          expect(svc.spec.ports.map((sp: Obj) => sp.name)).toContain(p.backend.service.port.name);
        }
      }
    }
  });

  it('denies all traffic by default and allows each role only its own flows', () => {
    const policies = ofKind(objs, 'NetworkPolicy');
    const deny = byName(objs, 'NetworkPolicy', 'default-deny');
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    const podOf = (component: string) => podLabels(byName(objs, 'Deployment', `aula-${component}`));
    const rules = (labels: Record<string, string>, dir: 'ingress' | 'egress') =>
      policies
        .filter(
          (p) =>
            p.spec.policyTypes.includes(dir === 'ingress' ? 'Ingress' : 'Egress') &&
            selectorMatches(p.spec.podSelector, labels),
        )
        .flatMap((p) => p.spec[dir] ?? []);
    const ports = (rs: Obj[]) => new Set(rs.flatMap((r) => (r.ports ?? []).map((p: Obj) => p.port)));
    const allowsFrom = (rs: Obj[], peer: (f: Obj) => boolean, port: number) =>
      rs.some((r) => (r.from ?? []).some(peer) && (r.ports ?? []).some((p: Obj) => p.port === port));
    const fromIngressNginx = (f: Obj) =>
      f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'ingress-nginx';
    const fromPod = (labels: Record<string, string>) => (f: Obj) =>
      !f.namespaceSelector && f.podSelector && selectorMatches(f.podSelector, labels);

    for (const c of ['api', 'api-forward']) {
      expect(allowsFrom(rules(podOf(c), 'ingress'), fromIngressNginx, 8000), c).toBe(true);
    }
    const grpcIn = rules(podOf('ingest-grpc'), 'ingress');
    expect(allowsFrom(grpcIn, fromPod(podOf('api-forward')), 50051)).toBe(true);
    expect(allowsFrom(grpcIn, fromIngressNginx, 50051)).toBe(true);
    expect(rules(podOf('worker'), 'ingress')).toEqual([]);
    // Workers reach the databases, Redis and the object store, and nothing else but DNS.
    const workerOut = rules(podOf('worker'), 'egress');
    expect([...ports(workerOut)].sort((a, b) => a - b)).toEqual([53, 443, 3306, 5432, 6379, 9000]);
    for (const r of workerOut) {
      const dns = (r.ports ?? []).every((p: Obj) => p.port === 53);
      if (dns) expect(r.to?.[0]?.podSelector?.matchLabels).toEqual({ 'k8s-app': 'kube-dns' });
    }
    const forwardOut = rules(podOf('api-forward'), 'egress');
    expect(forwardOut.some((r) => (r.to ?? []).some(fromPod(podOf('ingest-grpc'))) && ports([r]).has(50051))).toBe(
      true,
    );
  });
});

describe('the traffic split', () => {
  it('sends /api/v1/grades 50/50 between the REST and the gRPC-forwarding route through a canary Ingress', () => {
    for (const name of ['base', 'dev', 'prod']) {
      const ingresses = ofKind(rendered[name], 'Ingress');
      const canaries = ingresses.filter(
        (i) => i.metadata.annotations?.['nginx.ingress.kubernetes.io/canary'] === 'true',
      );
      expect(canaries.map((c) => c.metadata.name)).toEqual(['aula-grades-forward']);
      for (const canary of canaries) {
        const a = canary.metadata.annotations;
        const weight = Number(a['nginx.ingress.kubernetes.io/canary-weight']);
        const total = Number(a['nginx.ingress.kubernetes.io/canary-weight-total'] ?? 100);
        for (const rule of canary.spec.rules) {
          for (const p of rule.http.paths) {
            // The main Ingress for the same host and path gets what the canaries leave.
            const main = ingresses.filter(
              (i) =>
                !i.metadata.annotations?.['nginx.ingress.kubernetes.io/canary'] &&
                i.spec.rules.some(
                  (r: Obj) =>
                    r.host === rule.host &&
                    r.http.paths.some((mp: Obj) => mp.path === p.path && mp.pathType === p.pathType),
                ),
            );
            expect(main.length, `${name} ${rule.host ?? '*'}${p.path}`).toBe(1);
            const mainBackend = main[0].spec.rules
              .find((r: Obj) => r.host === rule.host)
              .http.paths.find((mp: Obj) => mp.path === p.path).backend.service.name;
            const shares = { [mainBackend]: total - weight, [p.backend.service.name]: weight };
            expect(shares).toEqual({ 'aula-api': 50, 'aula-api-forward': 50 });
            expect(Object.values(shares).reduce((x, y) => x + y, 0)).toBe(100);
          }
        }
      }
    }
  });

  it('keeps Socket.IO sessions on one pod and sends nothing else to the realtime Ingress', () => {
    const rt = byName(rendered.base, 'Ingress', 'aula-realtime');
    expect(rt.metadata.annotations['nginx.ingress.kubernetes.io/affinity']).toBe('cookie');
    expect(rt.spec.rules.flatMap((r: Obj) => r.http.paths.map((p: Obj) => p.path))).toEqual(['/socket.io']);
  });

  it('offers the same split as a Gateway API HTTPRoute, in a component not applied by default', () => {
    for (const name of ['base', 'dev', 'prod']) expect(ofKind(rendered[name], 'HTTPRoute')).toEqual([]);
    const objs = rendered['dev + gateway-api'];
    expect(ofKind(objs, 'Ingress')).toEqual([]);
    const gateway = byName(objs, 'Gateway', 'aula');
    expect(gateway.spec.listeners.length).toBeGreaterThan(0);
    const route = byName(objs, 'HTTPRoute', 'aula');
    expect(route.spec.parentRefs).toEqual([{ name: 'aula' }]);
    const grades = route.spec.rules.find((r: Obj) => r.matches.some((m: Obj) => m.path.value === '/api/v1/grades'));
    const weights = Object.fromEntries(grades.backendRefs.map((b: Obj) => [b.name, b.weight]));
    expect(weights).toEqual({ 'aula-api': 50, 'aula-api-forward': 50 });
    for (const rule of route.spec.rules) {
      for (const b of rule.backendRefs) {
        const svc = byName(objs, 'Service', b.name);
        expect(svc.spec.ports.map((p: Obj) => p.port)).toContain(b.port);
      }
    }
  });
});

describe('overlays', () => {
  it('dev runs MariaDB, Redis and MinIO in the cluster, with the credentials its Secret uses', () => {
    const objs = rendered.dev;
    for (const store of ['mariadb', 'redis', 'minio']) {
      const sts = byName(objs, 'StatefulSet', store);
      expect(sts.spec.volumeClaimTemplates.length, store).toBe(1);
      expect(byName(objs, 'Service', store).spec.selector).toEqual(sts.spec.selector.matchLabels);
    }
    const secret = byName(objs, 'Secret', 'aula-secrets');
    expect(Object.keys(secret.data).sort()).toEqual(SECRET_KEYS);
    const env = containerEnv(objs, podSpec(byName(objs, 'Deployment', 'aula-api')).containers[0]);
    const storeEnv = (sts: string) =>
      Object.fromEntries(
        podSpec(byName(objs, 'StatefulSet', sts)).containers[0].env.map((e: Obj) => [e.name, e.value]),
      );

    const db = new URL(env.DATABASE_URL);
    const maria = storeEnv('mariadb');
    expect([db.hostname, db.port, db.username, db.password, db.pathname]).toEqual([
      'mariadb',
      '3306',
      maria.MARIADB_USER,
      maria.MARIADB_PASSWORD,
      `/${maria.MARIADB_DATABASE}`,
    ]);

    expect(
      env.BLOB_URL.startsWith('s3://aula?endpoint=http://minio:9000&forcePathStyle=true&region=us-east-1&create=true'),
    ).toBe(true);
    const blob = parseBlobUrl(env.BLOB_URL);
    const minio = storeEnv('minio');
    expect(blob).toMatchObject({
      kind: 's3',
      bucket: 'aula',
      endpoint: 'http://minio:9000',
      forcePathStyle: true,
      create: true,
      credentials: { accessKeyId: minio.MINIO_ROOT_USER, secretAccessKey: minio.MINIO_ROOT_PASSWORD },
    });
    expect(loadConfig(env).sessionSecret).toBeDefined();
    expect(loadConfig(env).seedDemo).toBe(true);
  });

  it('prod generates no Secret, runs more and bigger pods, and serves its hosts over TLS', () => {
    const objs = rendered.prod;
    expect(ofKind(objs, 'Secret')).toEqual([]);
    expect(ofKind(objs, 'StatefulSet')).toEqual([]);
    const limit = (o: K8sObject[], n: string) => podSpec(byName(o, 'Deployment', n)).containers[0].resources.limits.cpu;
    const cores = cpuCores;
    for (const d of ['aula-api', 'aula-api-forward', 'aula-ingest-grpc', 'aula-worker']) {
      expect(cores(limit(objs, d)), d).toBeGreaterThan(cores(limit(rendered.base, d)));
      const hpa = byName(objs, 'HorizontalPodAutoscaler', d);
      expect(hpa.spec.minReplicas, d).toBeGreaterThanOrEqual(2);
    }
    for (const ing of ofKind(objs, 'Ingress')) {
      const hosts = ing.spec.rules.map((r: Obj) => r.host);
      expect(hosts.every(Boolean), ing.metadata.name).toBe(true);
      expect(ing.spec.tls.flatMap((t: Obj) => t.hosts)).toEqual(expect.arrayContaining(hosts));
    }
    const grpc = byName(objs, 'Ingress', 'aula-grpc');
    expect(grpc.metadata.annotations['nginx.ingress.kubernetes.io/backend-protocol']).toBe('GRPC');
    const worker = podSpec(byName(objs, 'Deployment', 'aula-worker')).containers[0];
    // One WASM inference process per core of the worker's CPU limit.
    expect(Number(containerEnv(objs, worker).WORKERS)).toBe(cores(worker.resources.limits.cpu));
  });

  it('each overlay runs its Jobs on the image of its Deployments', () => {
    for (const env of ['dev', 'prod']) {
      const images = new Set(
        [...workloads(rendered[env]), ...workloads(rendered[`${env} jobs`])]
          .flatMap(containers)
          .map((c) => c.image)
          .filter(isAulaImage),
      );
      expect([...images], env).toEqual([env === 'dev' ? 'aula:dev' : 'images.example.com/aula:0.1.0']);
    }
  });

  it('docs/deploy.md creates the Secret with exactly the keys the Deployments read', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs/deploy.md'), 'utf8');
    const keys = [...doc.matchAll(/--from-literal=([A-Z_]+)=/g)].map((m) => m[1]);
    expect([...new Set(keys)].sort()).toEqual(SECRET_KEYS);
    for (const k of SECRET_KEYS) expect(ENV_KEYS.has(k)).toBe(true);
  });
});

// ---- Jobs ------------------------------------------------------------------------------------

/** Parses a container's arguments with the real `aula load` command and its option checks. */
async function parseLoadArgs(args: string[]): Promise<ReturnType<typeof resolveOptions>> {
  const program = new Command('aula').exitOverride();
  registerLoadCommand(program);
  const load = program.commands.find((c) => c.name() === 'load')!;
  let raw: RawOptions | undefined;
  load.exitOverride().action((opts: RawOptions) => {
    raw = opts;
  });
  await program.parseAsync(args, { from: 'user' });
  return resolveOptions(raw!, () => 'aula_token_from_the_mounted_secret');
}

describe.each(JOBS)('%s', (name) => {
  const objs = rendered[name];

  it('migrates with `aula migrate up`', async () => {
    const job = byName(objs, 'Job', 'aula-migrate');
    expect(podSpec(job).containers[0].args).toEqual(['migrate', 'up']);
    expect(await parseCli(['migrate', 'up'])).toEqual(['migrate']);
    expect(podSpec(job).restartPolicy).toBe('Never');
    expect(podSpec(job).containers[0].envFrom).toEqual([
      { configMapRef: { name: 'aula-config' } },
      { secretRef: { name: 'aula-secrets' } },
    ]);
  });

  it('runs the load generator in parallel pods, split 50/50 between REST and gRPC, publishing one run', async () => {
    const job = byName(objs, 'Job', 'aula-load');
    expect(job.spec.parallelism).toBeGreaterThan(1);
    expect(job.spec.completions).toBe(job.spec.parallelism);
    const c = podSpec(job).containers[0];
    const sub: Record<string, string> = { JOB_NAME: 'aula-load', JOB_UID: '0d9f5a8e-3c0b-4f7e-9a51-2b7c8e1f4a6d' };
    const args = c.args.map((a: string) => a.replace(/\$\((\w+)\)/g, (_m: string, v: string) => sub[v]));
    expect(args[0]).toBe('load');
    const o = await parseLoadArgs(args);
    expect(o).toMatchObject({
      mode: 'split',
      splitRestPercent: 50,
      target: 'http://aula-api:8000',
      grpc: 'aula-ingest-grpc:50051',
      publish: true,
      runId: 'aula-load-0d9f5a8e-3c0b-4f7e-9a51-2b7c8e1f4a6d',
      model: 'open',
    });
    const tokenMount = c.volumeMounts.find((m: Obj) => m.name === 'token');
    const tokenFile = args[args.indexOf('--token-file') + 1];
    expect(path.dirname(tokenFile)).toBe(tokenMount.mountPath);
    expect(podSpec(job).volumes.find((v: Obj) => v.name === 'token').secret.secretName).toBe('aula-load-token');
    // The pods' addresses are the Services the platform renders.
    const platform = rendered[name === 'base jobs' ? 'base' : name.split(' ')[0]];
    const api = byName(platform, 'Service', 'aula-api');
    expect(api.spec.ports.map((p: Obj) => p.port)).toContain(8000);
    expect(byName(platform, 'Service', 'aula-ingest-grpc').spec.ports.map((p: Obj) => p.port)).toContain(50051);
  });
});
