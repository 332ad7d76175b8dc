/**
 * GitOps render: deterministic files, images pinned by digest (tags refused), replicas from the
 * runtime section, the config section flattened, and no value of the secrets section anywhere.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { isDomainError } from '../src/domain/errors.ts';
import { configDigest } from '../src/parity/config/effective-config.ts';
import { renderManifests } from '../src/rollout/targets/gitops/render.ts';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
export const renderInput = (over: Record<string, unknown> = {}) => ({
  environment: 'prod',
  service: 'checkout',
  version: '1.2.0',
  releaseId: 'rel_01',
  promotionId: 'prm_01',
  images: [{ name: 'app', ref: `ghcr.io/acme/checkout@${DIGEST}` }],
  config: {
    document: {
      config: { port: 8080, db: { host: 'db.internal', pool: { max: 5 } }, tags: ['a', 'b'], debug: false },
      runtime: { replicas: 3 },
      secrets: { DB_PASSWORD: 'sops_db_password_key_zz91', API_TOKEN: 'sops_api_token_key_qq17' },
    },
  },
  ...over,
});

const fileOf = (r: ReturnType<typeof renderManifests>, name: string) => {
  const f = r.files.find((x) => x.path === `prod/checkout/${name}`);
  assert.ok(f, `${name} rendered`);
  return f.content;
};

describe('gitops render', () => {
  test('renders deployment, configmap and kustomization deterministically', () => {
    const a = renderManifests(renderInput());
    const b = renderManifests(JSON.parse(JSON.stringify(renderInput())));
    assert.deepEqual(a, b);
    assert.deepEqual(a.files.map((f) => f.path), ['prod/checkout/configmap.yaml', 'prod/checkout/deployment.yaml', 'prod/checkout/kustomization.yaml']);
    const dep = parse(fileOf(a, 'deployment.yaml'));
    assert.equal(dep.kind, 'Deployment');
    assert.equal(dep.spec.replicas, 3);
    assert.equal(dep.metadata.labels['app.kubernetes.io/name'], 'checkout');
    assert.equal(dep.metadata.labels['app.kubernetes.io/version'], '1.2.0');
    assert.equal(dep.metadata.annotations['stagegate.dev/release'], 'rel_01');
    assert.equal(dep.metadata.annotations['stagegate.dev/promotion'], 'prm_01');
    assert.equal(dep.spec.template.spec.containers[0].image, `ghcr.io/acme/checkout@${DIGEST}`);
    const cm = parse(fileOf(a, 'configmap.yaml'));
    assert.deepEqual(cm.data, { 'db.host': 'db.internal', 'db.pool.max': '5', debug: 'false', port: '8080', tags: '["a","b"]' });
    assert.equal(cm.metadata.annotations['stagegate.dev/config-digest'], configDigest(renderInput().config.document));
    assert.deepEqual(parse(fileOf(a, 'kustomization.yaml')).resources, ['configmap.yaml', 'deployment.yaml']);
  });

  test('secret values never appear; secrets are referenced by name only', () => {
    const r = renderManifests(renderInput());
    const all = r.files.map((f) => f.content).join('\n');
    assert.ok(!all.includes('sops_db_password_key_zz91') && !all.includes('sops_api_token_key_qq17'));
    const env = parse(fileOf(r, 'deployment.yaml')).spec.template.spec.containers[0].env;
    assert.deepEqual(env.map((e: { name: string }) => e.name), ['API_TOKEN', 'DB_PASSWORD']);
    assert.equal(env[0].valueFrom.secretKeyRef.name, 'checkout-secrets');
  });

  test('a tag instead of a digest is refused, naming the image', () => {
    assert.throws(
      () => renderManifests(renderInput({ images: [{ name: 'app', ref: 'ghcr.io/acme/checkout:1.2.0' }] })),
      (e) => isDomainError(e) && e.code === 'invalid_input' && /images\[0\] \(app\).*not pinned by digest/.test(e.message) && e.details.field === 'images[0].ref',
    );
  });

  test('tag next to a digest renders the digest only; images are sorted by container name', () => {
    const r = renderManifests(renderInput({ images: [{ name: 'web', ref: `ghcr.io/acme/web:v1@${DIGEST}` }, { name: 'app', ref: `ghcr.io/acme/app@${DIGEST}` }] }));
    const images = parse(fileOf(r, 'deployment.yaml')).spec.template.spec.containers.map((c: { name: string; image: string }) => `${c.name}=${c.image}`);
    assert.deepEqual(images, [`app=ghcr.io/acme/app@${DIGEST}`, `web=ghcr.io/acme/web@${DIGEST}`]);
  });

  test('bad replicas, bad config keys and bad names are refused with the field', () => {
    const bad = (over: Record<string, unknown>, field: RegExp) =>
      assert.throws(() => renderManifests(renderInput(over)), (e) => isDomainError(e) && e.code === 'invalid_input' && field.test(String(e.details.field)));
    bad({ config: { document: { runtime: { replicas: 2.5 } } } }, /^\/runtime\/replicas$/);
    bad({ config: { document: { runtime: { replicas: -1 } } } }, /^\/runtime\/replicas$/);
    bad({ config: { document: { config: { 'a b': 1 } } } }, /^\/config\/a b$/);
    bad({ config: { document: { config: { a: { b: 1 }, 'a.b': 2 } } } }, /^\/config\/a\.b$/);
    bad({ service: '../etc' }, /^service$/);
    bad({ promotionId: 'x/../y' }, /^promotionId$/);
    bad({ images: [] }, /^images$/);
  });

  test('replicas default to 1 and a +build version becomes a valid label', () => {
    const r = renderManifests(renderInput({ version: '1.2.0+build.7', config: { document: {} } }));
    const dep = parse(fileOf(r, 'deployment.yaml'));
    assert.equal(dep.spec.replicas, 1);
    assert.equal(dep.metadata.labels['app.kubernetes.io/version'], '1.2.0_build.7');
    assert.equal(dep.metadata.annotations['stagegate.dev/version'], '1.2.0+build.7');
    assert.deepEqual(parse(fileOf(r, 'configmap.yaml')).data, {});
  });
});
