/**
 * Render one service's manifests for one environment: a Deployment with images pinned by digest, a
 * ConfigMap of the effective `config` section, and a kustomization. Deterministic: same input, same
 * bytes (sorted keys, fixed YAML options). Secret values never appear: only secret names.
 */
import { stringify } from 'yaml';
import { DomainError } from '../../../domain/errors.ts';
import { configDigest } from '../../../parity/config/effective-config.ts';
import { flattenConfig } from './flatten.ts';
import { type CheckedRenderInput, checkRenderInput } from './input.ts';

export interface RenderedFile {
  /** repository-relative, `/`-separated: `<env>/<service>/<name>.yaml` */
  path: string;
  content: string;
}
export interface RenderedManifests {
  environment: string;
  service: string;
  version: string;
  releaseId: string;
  promotionId: string;
  /** sha256 of the RFC 8785 bytes of the whole effective document */
  configDigest: string;
  /** `<env>/<service>`: the folder these files own */
  dir: string;
  /** sorted by path */
  files: RenderedFile[];
}

export const MAX_REPLICAS = 1000;
const SECRET_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const HEADER = '# Rendered by stagegate; edits here are overwritten by the next promotion.\n';

const toYaml = (doc: unknown) => HEADER + stringify(doc, { sortMapEntries: true, lineWidth: 0, aliasDuplicateObjects: false });

/** a Kubernetes label value: at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends */
export function labelValue(version: string): string {
  return version.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 63).replace(/[^A-Za-z0-9]+$/, '');
}

export function replicasOf(document: Record<string, unknown>): number {
  const runtime = document['runtime'];
  if (runtime === undefined) return 1;
  const replicas = typeof runtime === 'object' && runtime !== null && !Array.isArray(runtime) ? (runtime as Record<string, unknown>)['replicas'] : runtime;
  if (replicas === undefined) return 1;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0 || replicas > MAX_REPLICAS) {
    throw new DomainError('invalid_input', `gitops render: /runtime/replicas must be a whole number from 0 to ${MAX_REPLICAS}`, {
      field: '/runtime/replicas',
      fix: 'set runtime.replicas in the service manifest to a whole number such as 3',
    });
  }
  return replicas;
}

/** the names under `secrets` (the name the service sees); the SOPS keys they map to are not rendered */
function secretNames(document: Record<string, unknown>): string[] {
  const s = document['secrets'];
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return [];
  return Object.keys(s).filter((k) => SECRET_NAME_RE.test(k)).sort();
}

function deployment(input: CheckedRenderInput, digest: string) {
  const { service, version, document } = { ...input, document: input.config.document };
  const labels = { 'app.kubernetes.io/name': service, 'app.kubernetes.io/version': labelValue(version), 'app.kubernetes.io/managed-by': 'stagegate' };
  const secrets = secretNames(document);
  const env = secrets.map((name) => ({ name, valueFrom: { secretKeyRef: { name: `${service}-secrets`, key: name } } }));
  const annotations = {
    'stagegate.dev/release': input.releaseId,
    'stagegate.dev/promotion': input.promotionId,
    'stagegate.dev/version': version,
    'stagegate.dev/config-digest': digest,
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: service, labels, annotations },
    spec: {
      replicas: replicasOf(document),
      selector: { matchLabels: { 'app.kubernetes.io/name': service } },
      template: {
        // the config digest on the pod template restarts pods when only the configuration changed
        metadata: { labels, annotations: { 'stagegate.dev/config-digest': digest } },
        spec: {
          containers: input.images.map((img) => ({
            name: img.name,
            image: img.ref,
            envFrom: [{ configMapRef: { name: `${service}-config` } }],
            ...(env.length ? { env } : {}),
          })),
        },
      },
    },
  };
}

export function renderManifests(value: unknown): RenderedManifests {
  const input = checkRenderInput(value);
  const document = input.config.document;
  const digest = configDigest(document);
  const dir = `${input.environment}/${input.service}`;
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: `${input.service}-config`,
      labels: { 'app.kubernetes.io/name': input.service, 'app.kubernetes.io/managed-by': 'stagegate' },
      annotations: { 'stagegate.dev/config-digest': digest },
    },
    data: flattenConfig(document['config']),
  };
  const kustomization = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['configmap.yaml', 'deployment.yaml'] };
  const files: RenderedFile[] = [
    { path: `${dir}/configmap.yaml`, content: toYaml(configMap) },
    { path: `${dir}/deployment.yaml`, content: toYaml(deployment(input, digest)) },
    { path: `${dir}/kustomization.yaml`, content: toYaml(kustomization) },
  ];
  const { environment, service, version, releaseId, promotionId } = input;
  return { environment, service, version, releaseId, promotionId, configDigest: digest, dir, files };
}
