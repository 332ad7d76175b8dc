/**
 * Turns zod issues on the project file into problems people can act on: the field path, what is
 * wrong (expected vs got, allowed fields, closest name) and how to fix it.
 */
import type { z } from 'zod';
import { closestName } from './graph.ts';
import type { FieldPath } from './graph.ts';
import { API_VERSION, allowedFields } from './schema.ts';

export interface IssueProblem {
  /** the node the problem is about */
  path: FieldPath;
  /** set when the problem is about a mapping key rather than its value */
  key?: string;
  message: string;
  fix: string;
}

/** `environments[2].requires[0]`, `targets.local-exec.deploy`, or `(top level)` for the root. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const s = String(seg);
      out += /^[A-Za-z_][A-Za-z0-9_-]*$/.test(s) ? (out ? `.${s}` : s) : `[${JSON.stringify(s.slice(0, 64))}]`;
    }
  }
  return out || '(top level)';
}

/** Pattern used by allowedFields and the hints: numbers become `[]`, a target name becomes `*`. */
function pattern(path: readonly PropertyKey[]): string {
  let out = '';
  path.forEach((seg, i) => {
    if (typeof seg === 'number') out += '[]';
    else if (i === 1 && path[0] === 'targets') out += '.*';
    else out += out ? `.${String(seg)}` : String(seg);
  });
  return out;
}

const NAME_HINT = 'use lowercase letters, digits and dashes, starting with a letter (at most 63 characters), e.g. checkout';
/** [field pattern, what the value should be, how to fix it] */
const hints: [RegExp, string, string][] = [
  [/^apiVersion$/, 'API version', `set \`apiVersion: ${API_VERSION}\``],
  [/(^project|\.name|\.target|trustedKeys\[\]|requires\[\])$/, 'name', NAME_HINT],
  [/^targets$/, 'target name', `target names: ${NAME_HINT}`],
  [/\.minSoak$/, 'duration', 'write a duration such as 0s, 30s, 10m, 2h, 1d or 1h30m (at most 365d)'],
  [/\.env$/, 'variable name', 'variable names: letters, digits and _, not starting with a digit; names starting STAGEGATE_ are reserved'],
  [/\.tier$/, 'tier', 'use one of dev, test, staging, prod'],
  [/\.timeoutSeconds$/, 'timeout', 'use a whole number of seconds from 1 to 86400'],
  [/\.(deploy|verify)$/, 'command', 'write the command as a list of arguments, e.g. ["node", "deploy.js"]'],
  [/\.publicKey$/, 'public key', 'give a path to a PEM public key file (relative to stagegate.yaml) or the PEM text itself'],
  [/^$/, 'project file', 'write the project file as a mapping with apiVersion, project, keys, services, targets, environments (see `stagegate init`)'],
];
const findHint = (path: readonly PropertyKey[]) => {
  const p = pattern(path);
  return hints.find(([re]) => re.test(p));
};
function hint(path: readonly PropertyKey[], fallback: string): string {
  return findHint(path)?.[2] ?? fallback;
}
const noun = (path: readonly PropertyKey[]): string => findHint(path)?.[1] ?? 'value';

/** A YAML-flavoured name for the type of a value. */
export function typeName(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null (empty value)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return 'a string';
  return `a ${typeof v}`;
}
const expectedName = (t: string): string =>
  ({ object: 'a mapping', record: 'a mapping', array: 'a list', string: 'a string', number: 'a number', int: 'a whole number' })[t] ??
  `a ${t}`;

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let cur = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (!Object.hasOwn(cur, seg)) return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}
const show = (v: unknown): string => {
  // never String() a mapping: YAML can give it an own `toString` key, and then String() throws
  const s = typeof v === 'string' ? v : v !== null && typeof v === 'object' ? typeName(v) : String(v);
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s);
};
const toPath = (p: readonly PropertyKey[]): FieldPath => p.map((s) => (typeof s === 'number' ? s : String(s)));

function sizeProblem(issue: z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall, value: unknown): string {
  const big = issue.code === 'too_big';
  const bound = big ? issue.maximum : issue.minimum;
  if (issue.origin === 'string') {
    const n = typeof value === 'string' ? value.length : 0;
    return n === 0 && !big ? 'must not be empty' : `is ${n} characters long; ${big ? 'at most' : 'at least'} ${bound} allowed`;
  }
  if (issue.origin === 'array') {
    const n = Array.isArray(value) ? value.length : 0;
    return `has ${n} item${n === 1 ? '' : 's'}; ${big ? 'at most' : 'at least'} ${bound} allowed`;
  }
  return `is ${show(value)}; must be ${big ? 'at most' : 'at least'} ${String(bound)}`;
}

/** The allowed discriminator values zod attaches to a discriminated-union issue. */
const unionOptions = (issue: z.core.$ZodIssueInvalidUnion): unknown[] => {
  const options = (issue as { options?: unknown }).options;
  return Array.isArray(options) ? options : [];
};

/** Map one zod issue (on the data `data`) to one or more problems. */
export function issueProblems(issue: z.core.$ZodIssue, data: unknown): IssueProblem[] {
  const path = toPath(issue.path);
  const value = valueAt(data, issue.path);
  if (path.length === 0 && (value === null || value === undefined))
    return [{ path, message: 'the project file is empty', fix: hint(path, '') }];
  const field = path[path.length - 1];
  if (value === undefined && typeof field === 'string' && issue.code !== 'unrecognized_keys' && issue.code !== 'invalid_key') {
    const exp =
      issue.code === 'invalid_type'
        ? expectedName(issue.expected)
        : issue.code === 'invalid_value'
          ? issue.values.map(show).join(' | ')
          : issue.code === 'invalid_union' && unionOptions(issue).length
            ? unionOptions(issue).map(show).join(' | ')
            : noun(path);
    return [{ path, message: `missing required field \`${field}\` (${exp})`, fix: `add \`${field}:\` here` }];
  }
  switch (issue.code) {
    case 'invalid_type': {
      const exp = expectedName(issue.expected);
      return [{ path, message: `expected ${exp}, got ${typeName(value)}`, fix: hint(path, `write ${exp} here`) }];
    }
    case 'unrecognized_keys': {
      const allowed = allowedFields[pattern(issue.path)] ?? [];
      return issue.keys.map((key) => {
        const near = closestName(key, allowed);
        return {
          path,
          key,
          message: `unknown field \`${key.slice(0, 64)}\`; allowed fields: ${allowed.join(', ')}`,
          fix: near ? `did you mean \`${near}\`?` : 'remove it (check the spelling and indentation)',
        };
      });
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => show(v)).join(', ');
      const one = issue.values.length === 1;
      return [
        {
          path,
          message: `${show(value)} is not allowed; expected ${one ? values : `one of ${values}`}`,
          fix: hint(path, one ? `write ${values}` : `use one of ${values}`),
        },
      ];
    }
    case 'invalid_union': {
      const options = unionOptions(issue).map(show).join(', ');
      return [
        {
          path,
          message: options ? `unknown ${String(issue.path.at(-1))} ${show(value)}; supported: ${options}` : 'does not match any allowed form',
          fix: options ? `use one of ${options}` : hint(path, 'see docs/project-file.md'),
        },
      ];
    }
    case 'invalid_format':
      return [{ path, message: `${show(value)} is not a valid ${noun(path)}`, fix: hint(path, 'see docs/project-file.md') }];
    case 'invalid_key': {
      const key = String(issue.path.at(-1));
      const parent = path.slice(0, -1);
      return [{ path: parent, key, message: `${show(key)} is not a valid ${noun(parent)}`, fix: hint(parent, NAME_HINT) }];
    }
    case 'too_big':
    case 'too_small':
      return [{ path, message: sizeProblem(issue, value), fix: hint(path, 'see the limits in docs/project-file.md') }];
    case 'not_multiple_of':
      return [{ path, message: `must be a whole number, got ${show(value)}`, fix: hint(path, 'use a whole number') }];
    default:
      return [{ path, message: issue.message, fix: hint(path, 'see docs/project-file.md') }];
  }
}
