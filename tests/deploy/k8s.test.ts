// deploy/k8s/: each overlay renders with `kubectl kustomize` (offline) and every object it
// renders is valid: built-in kinds against kubernetes-models' schemas, CloudNativePG's kinds by
// their required fields. Then what deploy/runbook.md ("Kubernetes") promises is checked.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

import { parseConfig } from '@mcx/node';

const K8S = fileURLToPath(new URL('../../deploy/k8s/', import.meta.url));

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, any>;
  data?: Record<string, string>;
}

function kubectlAvailable(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const hasKubectl = kubectlAvailable();
if (!hasKubectl) console.warn('deploy/k8s: kubectl is not on the PATH, so the overlays are not rendered or checked (skipped)');

function render(overlay: string): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', `${K8S}overlays/${overlay}`], { encoding: 'utf8' });
  return parseAllDocuments(out).map((d) => d.toJS() as K8sObject);
}

/** CloudNativePG's custom resources: apiVersion, kind and the fields its CRDs require, by hand. */
function cnpgProblems(o: K8sObject): string[] {
  const p: string[] = [];
  const s = o.spec ?? {};
  if (o.apiVersion !== 'postgresql.cnpg.io/v1') p.push(`apiVersion ${o.apiVersion}`);
  if (o.kind === 'Cluster') {
    if (!(Number.isInteger(s.instances) && s.instances >= 1)) p.push('spec.instances');
    if (typeof s.storage?.size !== 'string') p.push('spec.storage.size');
    const sync = s.postgresql?.synchronous;
    if (sync && !(['any', 'first'].includes(sync.method) && Number.isInteger(sync.number))) p.push('spec.postgresql.synchronous');
    for (const role of s.managed?.roles ?? []) if (typeof role.name !== 'string') p.push('spec.managed.roles[].name');
  } else if (o.kind === 'Pooler') {
    if (typeof s.cluster?.name !== 'string') p.push('spec.cluster.name');
    if (!['rw', 'ro', 'r'].includes(s.type)) p.push('spec.type');
    if (!['session', 'transaction'].includes(s.pgbouncer?.poolMode)) p.push('spec.pgbouncer.poolMode');
  } else if (o.kind === 'ScheduledBackup') {
    if (typeof s.schedule !== 'string' || s.schedule.split(' ').length !== 6) p.push('spec.schedule (six fields, seconds first)');
    if (typeof s.cluster?.name !== 'string') p.push('spec.cluster.name');
  } else p.push(`unknown kind ${o.kind}`);
  return p;
}

async function validate(o: K8sObject): Promise<void> {
  if (o.apiVersion.startsWith('postgresql.cnpg.io/')) {
    expect(cnpgProblems(o), `${o.kind}/${o.metadata.name}`).toEqual([]);
    return;
  }
  const mod = (await import(`kubernetes-models/${o.apiVersion}/${o.kind}`)) as Record<string, new (x: unknown) => { validate(): void }>;
  const Model = mod[o.kind]!;
  expect(() => new Model(o).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
}

/** Every pod template an object runs, with where it came from. */
function podSpecs(objects: K8sObject[]): [string, Record<string, any>][] {
  return objects.flatMap((o): [string, Record<string, any>][] => {
    if (o.kind === 'Deployment' || o.kind === 'Job') return [[`${o.kind}/${o.metadata.name}`, o.spec!.template.spec]];
    if (o.kind === 'CronJob') return [[`${o.kind}/${o.metadata.name}`, o.spec!.jobTemplate.spec.template.spec]];
    return [];
  });
}

const find = (objects: K8sObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);

describe.skipIf(!hasKubectl)('deploy/k8s overlays (skipped when kubectl is not on the PATH)', () => {
  describe.each(['single-force', 'large-force', 'linkage'])('%s', (overlay) => {
    const objects = hasKubectl ? render(overlay) : [];

    it('every object is valid', async () => {
      expect(objects.length).toBeGreaterThan(4);
      for (const o of objects) await validate(o);
    });

    it('pods run as non-root on a read-only root filesystem, with resources; servers are probed; each has a NetworkPolicy', () => {
      for (const [where, pod] of podSpecs(objects)) {
        expect(pod.securityContext?.runAsNonRoot, where).toBe(true);
        expect(pod.automountServiceAccountToken, where).toBe(false);
        for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
          expect(c.securityContext, `${where} ${c.name}`).toMatchObject({
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
          });
          expect(c.resources?.requests?.cpu, `${where} ${c.name}`).toBeTruthy();
          expect(c.resources?.limits?.memory, `${where} ${c.name}`).toBeTruthy();
        }
      }
      for (const d of objects.filter((o) => o.kind === 'Deployment')) {
        const [c] = d.spec!.template.spec.containers;
        expect(c.livenessProbe.httpGet.path).toBe('/healthz');
        expect(c.readinessProbe.httpGet.path).toBe(d.metadata.name === 'mcx-node' ? '/readyz' : '/healthz');
        const policies = objects.filter(
          (o) => o.kind === 'NetworkPolicy' && o.spec!.podSelector.matchLabels['app.kubernetes.io/name'] === d.metadata.name,
        );
        expect(
          policies.map((p) => p.spec!.policyTypes),
          d.metadata.name,
        ).toContainEqual(['Ingress', 'Egress']);
      }
    });
  });

  it('a force node: keys from a Secret, the manifest from a ConfigMap, a migration Job before the new pods, a valid environment', () => {
    const objects = render('single-force');
    const deployment = find(objects, 'Deployment', 'mcx-node')!;
    const volumes = Object.fromEntries(deployment.spec!.template.spec.volumes.map((v: { name: string }) => [v.name, v]));
    expect(volumes.keys.secret.secretName).toBe('mcx-node-keys');
    expect(volumes.trust.configMap.name).toBe('mcx-trust');
    expect(deployment.spec!.template.spec.initContainers[0]).toMatchObject({
      name: 'wait-for-migrations',
      command: ['mcx', 'db', 'migrate'],
    });
    const job = find(objects, 'Job', 'mcx-migrate')!;
    expect(job.spec!.template.spec.containers[0].env).toContainEqual(
      expect.objectContaining({
        name: 'MCX_MIGRATION_DATABASE_URL',
        valueFrom: { secretKeyRef: { name: 'mcx-migration-database', key: 'url' } },
      }),
    );
    const env = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('mcx-node-env'))!;
    const config = parseConfig({ ...env.data, DATABASE_URL: 'postgres://mcx_wmp_node:x@db.internal:5432/mcx_wmp' });
    expect(config).toMatchObject({ env: 'production', forceCode: 'WMP', keysDir: '/etc/mcx/keys' });
    expect(objects.every((o) => o.metadata.namespace === 'mcx-wmp')).toBe(true);
  });

  it.each(['single-force', 'large-force'])(
    '%s: the metrics port (9464) is open to the monitoring namespace alone, never to the ingress or through the Service; the pod has time to drain',
    (overlay) => {
      const objects = render(overlay);
      const deployment = find(objects, 'Deployment', 'mcx-node')!;
      const pod = deployment.spec!.template.spec;
      const env = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('mcx-node-env'))!;
      const config = parseConfig({ ...env.data, DATABASE_URL: 'postgres://mcx_wmp_node:x@db.internal:5432/mcx_wmp' });
      expect(config.metricsPort).toBe(9464);
      expect(pod.containers[0].ports).toContainEqual({ name: 'metrics', containerPort: 9464 });
      // Every ingress rule of every policy that selects the node's pods: who may reach which port.
      const rules = objects
        .filter((o) => o.kind === 'NetworkPolicy' && o.spec!.podSelector.matchLabels?.['app.kubernetes.io/name'] === 'mcx-node')
        .flatMap((o) => (o.spec!.ingress ?? []) as { from?: Record<string, any>[]; ports?: { port: number }[] }[]);
      // A rule with no ports (or no peers) would open every port (or to everyone).
      for (const rule of rules) {
        expect(rule.ports?.length, 'a rule without ports opens every port').toBeGreaterThan(0);
        expect(rule.from?.length, 'a rule without peers admits everyone').toBeGreaterThan(0);
      }
      const metricsRules = rules.filter((r) => r.ports!.some((p) => p.port === 9464 || p.port === ('metrics' as unknown)));
      expect(metricsRules).toEqual([
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
          ports: [{ protocol: 'TCP', port: 9464 }],
        },
      ]);
      const httpRules = rules.filter((r) => r.ports!.some((p) => p.port === 4000));
      expect(httpRules.flatMap((r) => r.from)).toEqual([
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
      ]);
      const service = find(objects, 'Service', 'mcx-node')!;
      expect(service.spec!.ports.map((p: { targetPort: unknown }) => p.targetPort)).toEqual(['http']);
      // SIGTERM: up to 5 s not ready while serving, the grace period, the 15 s last resort.
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(config.shutdownGraceMs / 1000 + 5 + 15);
    },
  );

  it('a large force: three replicas, an HPA on CPU, a PodDisruptionBudget, CloudNativePG with a synchronous replica behind PgBouncer', () => {
    const objects = render('large-force');
    expect(find(objects, 'Deployment', 'mcx-node')!.spec!.replicas).toBe(3);
    expect(find(objects, 'HorizontalPodAutoscaler', 'mcx-node')!.spec).toMatchObject({
      scaleTargetRef: { kind: 'Deployment', name: 'mcx-node' },
      minReplicas: 3,
      metrics: [{ type: 'Resource', resource: { name: 'cpu' } }],
    });
    expect(find(objects, 'PodDisruptionBudget', 'mcx-node')!.spec).toMatchObject({ minAvailable: 2 });
    expect(find(objects, 'Cluster', 'mcx-db')!.spec).toMatchObject({
      instances: 3,
      postgresql: { synchronous: { method: 'any', number: 1 } },
      bootstrap: { initdb: { database: 'mcx_wmp', owner: 'mcx_owner' } },
    });
    expect(find(objects, 'Pooler', 'mcx-db-pooler-rw')!.spec).toMatchObject({ type: 'rw', pgbouncer: { poolMode: 'transaction' } });
    const env = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('mcx-node-env'))!;
    expect(parseConfig({ ...env.data, DATABASE_URL: 'postgres://mcx_wmp_node:x@mcx-db-pooler-rw:5432/mcx_wmp' }).dbPrepare).toBe(false);
  });
});
