/**
 * The release statement: an in-toto Statement v1 whose predicate is SLSA Provenance v1, serialized
 * with RFC 8785 (JCS) so the same inputs give the same bytes (and the same release id).
 */
import canonicalize from 'canonicalize';
import { z } from 'zod';
import { DomainError } from '../domain/errors.ts';
import type { Digest } from '../domain/ids.ts';
import { NAME_RE, VERSION_RE, parseImageRef } from '../domain/ids.ts';
import { MAX_PAYLOAD_BYTES, zodProblem } from './dsse.ts';
import { jsonDepth } from '../domain/json-pointer.ts';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const RELEASE_BUILD_TYPE = 'https://stagegate.dev/release/v1';
export const STAGEGATE_BUILDER_ID = 'https://stagegate.dev/cli';
export const MAX_SUBJECTS = 2000;
/** subject annotation keys; service and version are also in externalParameters */
export const ANNOTATION = { kind: 'stagegate.dev/kind', service: 'stagegate.dev/service', version: 'stagegate.dev/version' } as const;

const bounded = (max: number) => z.string().min(1).max(max);
const uri = z.string().min(1).max(2048).regex(/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/, 'must be a URI');
const jsonObject = z.record(z.string().max(256), z.unknown());
const resourceDescriptor = z.looseObject({
  name: z.string().max(1024).optional(),
  uri: uri.optional(),
  digest: z.record(z.string().max(64), z.string().max(256)).optional(),
});

/** SLSA Provenance v1 predicate; unknown fields are kept, every string and array bounded. */
export const provenancePredicateSchema = z.looseObject({
  buildDefinition: z.looseObject({
    buildType: uri,
    externalParameters: jsonObject,
    internalParameters: jsonObject.optional(),
    resolvedDependencies: z.array(resourceDescriptor).max(1000).optional(),
  }),
  runDetails: z.looseObject({
    builder: z.looseObject({
      id: uri,
      version: z.record(z.string().max(256), z.string().max(1024)).optional(),
      builderDependencies: z.array(resourceDescriptor).max(1000).optional(),
    }),
    metadata: z
      .looseObject({
        invocationId: z.string().max(1024).optional(),
        startedOn: z.string().max(64).optional(),
        finishedOn: z.string().max(64).optional(),
      })
      .optional(),
    byproducts: z.array(resourceDescriptor).max(1000).optional(),
  }),
});
export type ProvenancePredicate = z.infer<typeof provenancePredicateSchema>;

const MAX_JSON_DEPTH = 32;

/** Validate a SLSA Provenance v1 predicate (parsed JSON from a file). */
export function parseProvenance(value: unknown, source: string): ProvenancePredicate {
  const fix = 'pass the predicate of a SLSA Provenance v1 statement: {"buildDefinition": {...}, "runDetails": {...}}';
  if (jsonDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new DomainError('invalid_input', `provenance in ${source} nests deeper than ${MAX_JSON_DEPTH} levels`, { file: source, fix });
  }
  const r = provenancePredicateSchema.safeParse(value);
  if (!r.success) {
    const p = zodProblem(r.error);
    throw new DomainError('invalid_input', `provenance in ${source} is not a SLSA Provenance v1 predicate: ${p.field || 'predicate'}: ${p.message}`, {
      file: source,
      ...(p.field ? { field: p.field } : {}),
      fix,
    });
  }
  return r.data;
}

export const subjectKinds = ['artifact', 'config', 'image'] as const;
export type SubjectKind = (typeof subjectKinds)[number];

export interface ReleaseSubject {
  name: string;
  kind: SubjectKind;
  digest: Digest;
}

/** Refuse names that could escape a directory or be read two ways. */
export function validateSubjectName(name: string, where: string): string {
  const problem =
    name.length === 0 || name.length > 1024
      ? 'is empty or longer than 1024 characters'
      : name.includes('\0')
        ? 'contains a NUL character'
        : name.includes('\\')
          ? 'contains a backslash'
          : name.startsWith('/') || /^[A-Za-z]:/.test(name)
            ? 'is an absolute path'
            : name.split('/').some((p) => p === '..' || p === '.' || p === '')
              ? 'has an empty, "." or ".." path segment'
              : undefined;
  if (problem) {
    throw new DomainError('invalid_input', `subject name "${name.slice(0, 200)}" from ${where} ${problem}`, {
      file: where,
      fix: 'rename the file to a plain relative name with forward slashes, no "..", NUL or backslash',
    });
  }
  return name;
}

export const artifactSubject = (basename: string, digest: Digest, where: string): ReleaseSubject => ({
  name: validateSubjectName(basename, where),
  kind: 'artifact',
  digest,
});

export const configSubject = (relativePath: string, digest: Digest, where: string): ReleaseSubject => ({
  name: validateSubjectName(`config/${relativePath}`, where),
  kind: 'config',
  digest,
});

/** An image subject from a digest-pinned reference; tags alone are refused (parseImageRef says how to fix). */
export function imageSubject(reference: string): ReleaseSubject {
  const ref = parseImageRef(reference);
  return { name: validateSubjectName(ref.repository, `image ${reference}`), kind: 'image', digest: ref.digest };
}

export interface BuildStatementInput {
  service: string;
  version: string;
  subjects: ReleaseSubject[];
  /** a SLSA Provenance v1 predicate from the build; stagegate fills a minimal one when absent */
  provenance?: ProvenancePredicate;
}

export interface BuiltStatement {
  statement: Record<string, unknown>;
  bytes: Buffer;
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function assertServiceVersion(service: string, version: string): void {
  if (!NAME_RE.test(service)) {
    throw new DomainError('invalid_input', `service "${service.slice(0, 100)}" is not a valid service name`, {
      field: 'service',
      fix: 'use lowercase letters, digits and dashes, starting with a letter (at most 63), e.g. checkout',
    });
  }
  if (!VERSION_RE.test(version)) {
    throw new DomainError('invalid_input', `version "${version.slice(0, 100)}" is not a valid version`, {
      field: 'version',
      fix: 'use letters, digits, ".", "_", "+", "-" (at most 128), e.g. 1.4.2',
    });
  }
}

function withReleaseParameters(p: ProvenancePredicate, service: string, version: string): ProvenancePredicate {
  const ext = p.buildDefinition.externalParameters;
  for (const [key, value] of [['service', service], ['version', version]] as const) {
    if (key in ext && ext[key] !== value) {
      throw new DomainError('invalid_input', `provenance externalParameters.${key} is ${JSON.stringify(ext[key]).slice(0, 100)}, but the release ${key} is "${value}"`, {
        field: `buildDefinition.externalParameters.${key}`,
        fix: `make the provenance describe ${service}@${version}, or drop that parameter and let stagegate add it`,
      });
    }
  }
  return { ...p, buildDefinition: { ...p.buildDefinition, externalParameters: { ...ext, service, version } } };
}

export function buildReleaseStatement(input: BuildStatementInput): BuiltStatement {
  const { service, version } = input;
  assertServiceVersion(service, version);
  if (input.subjects.length === 0 || input.subjects.length > MAX_SUBJECTS) {
    throw new DomainError('invalid_input', `a release needs 1 to ${MAX_SUBJECTS} subjects, got ${input.subjects.length}`, {
      field: 'subjects',
      fix: 'pass at least one --artifact, --image or --config, and split very large config directories',
    });
  }
  const subjects = [...input.subjects].sort(byName);
  for (let i = 1; i < subjects.length; i++) {
    if (subjects[i]?.name === subjects[i - 1]?.name) {
      throw new DomainError('invalid_input', `two subjects are named "${subjects[i]?.name}"`, {
        field: 'subjects',
        fix: 'artifacts are named by their file name; rename one of them so every name is unique',
      });
    }
  }
  const predicate = input.provenance
    ? withReleaseParameters(input.provenance, service, version)
    : {
        buildDefinition: { buildType: RELEASE_BUILD_TYPE, externalParameters: { service, version } },
        runDetails: { builder: { id: STAGEGATE_BUILDER_ID } },
      };
  const statement = {
    _type: STATEMENT_TYPE,
    subject: subjects.map((s) => ({
      name: s.name,
      digest: { sha256: s.digest.slice('sha256:'.length) },
      annotations: { [ANNOTATION.kind]: s.kind, [ANNOTATION.service]: service, [ANNOTATION.version]: version },
    })),
    predicateType: SLSA_PROVENANCE_V1,
    predicate,
  };
  const text = canonicalize(statement);
  if (text === undefined) throw new DomainError('internal', 'statement could not be serialized');
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > MAX_PAYLOAD_BYTES) {
    throw new DomainError('payload_too_large', `the release statement is ${bytes.length} bytes, over the ${MAX_PAYLOAD_BYTES} byte bound`, {
      fix: 'sign fewer subjects or a smaller provenance document',
    });
  }
  return { statement, bytes };
}

const statementSchema = z.object({
  _type: z.literal(STATEMENT_TYPE),
  subject: z
    .array(
      z.object({
        name: bounded(1024),
        digest: z.looseObject({ sha256: z.string().regex(/^[a-f0-9]{64}$/, 'must be 64 lowercase hex') }),
        annotations: z.looseObject({
          [ANNOTATION.kind]: z.enum(subjectKinds),
          [ANNOTATION.service]: bounded(63),
          [ANNOTATION.version]: bounded(128),
        }),
      }),
    )
    .min(1)
    .max(MAX_SUBJECTS),
  predicateType: z.literal(SLSA_PROVENANCE_V1),
  predicate: provenancePredicateSchema,
});

export interface ParsedReleaseStatement {
  service: string;
  version: string;
  subjects: ReleaseSubject[];
  predicate: ProvenancePredicate;
}

/** Validate statement bytes read back from a bundle. */
export function parseReleaseStatement(bytes: Uint8Array, source = 'statement'): ParsedReleaseStatement {
  const fail = (message: string, field?: string): never => {
    throw new DomainError('invalid_input', `release statement in ${source} is invalid: ${message}`, {
      file: source,
      ...(field ? { field } : {}),
      fix: 'sign releases with `stagegate release create`; the statement must be an in-toto v1 statement with a SLSA provenance v1 predicate',
    });
  };
  if (bytes.byteLength > MAX_PAYLOAD_BYTES) fail(`it is ${bytes.byteLength} bytes, over ${MAX_PAYLOAD_BYTES}`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    fail(`not JSON (${(e as Error).message})`);
  }
  const r = statementSchema.safeParse(value);
  if (!r.success) {
    const p = zodProblem(r.error);
    return fail(`${p.field || 'statement'}: ${p.message}`, p.field);
  }
  const first = r.data.subject[0];
  const service = first?.annotations[ANNOTATION.service] ?? '';
  const version = first?.annotations[ANNOTATION.version] ?? '';
  const names = new Set<string>();
  const subjects = r.data.subject.map((s, i): ReleaseSubject => {
    if (s.annotations[ANNOTATION.service] !== service || s.annotations[ANNOTATION.version] !== version) {
      fail(`subject[${i}] names another service or version than subject[0]`, `subject[${i}].annotations`);
    }
    if (names.has(s.name)) fail(`two subjects are named "${s.name}"`, `subject[${i}].name`);
    names.add(s.name);
    validateSubjectName(s.name, source);
    return { name: s.name, kind: s.annotations[ANNOTATION.kind], digest: `sha256:${s.digest.sha256}` };
  });
  if (!NAME_RE.test(service) || !VERSION_RE.test(version)) {
    fail(`service "${service.slice(0, 63)}" or version "${version.slice(0, 128)}" is not valid (service: lowercase letters, digits, dashes; version: letters, digits, . _ + -)`, `subject[0].annotations`);
  }
  const ext = r.data.predicate.buildDefinition.externalParameters;
  if (ext.service !== service || ext.version !== version) {
    fail('predicate externalParameters service/version do not match the subject annotations', 'predicate.buildDefinition.externalParameters');
  }
  return { service, version, subjects, predicate: r.data.predicate };
}
