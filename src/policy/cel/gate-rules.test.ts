import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { DomainError, isDomainError } from '../../domain/errors.ts';
import { clockFacts, factMessages, factVariables, type GateFacts, toCelContext } from './facts.ts';
import { type CompiledGateRule, compileGateRules, evaluateGateRules, hasNestedQuantifier, lineColumn } from './gate-rules.ts';
import type { GateRule } from './schema.ts';

const WHERE = 'stagegate.yaml environments[2].rules';
const NOW = new Date('2025-06-13T15:30:00Z'); // a Friday afternoon (UTC)

function baseFacts(overrides: Partial<GateFacts> = {}): GateFacts {
  return {
    release: {
      service: 'checkout',
      version: '1.4.2',
      id: `sha256:${'a'.repeat(64)}`,
      signer: 'SHA256:ci-key-id',
      signerName: 'ci',
      provenance: { builder: 'https://ci.example.com/runner', source: 'git+https://git.example.com/shop/checkout', buildType: 'https://stagegate.dev/build/v1' },
    },
    environment: { name: 'prod', tier: 'prod' },
    approvals: [
      { user: 'user:bob', groups: ['sre', 'oncall'], at: new Date(NOW.getTime() - 10 * 60_000) },
      { user: 'user:carol', groups: ['security'], at: new Date(NOW.getTime() - 30 * 60_000) },
    ],
    approvalCount: 2,
    soak: {
      dev: { succeeded: true, soakSeconds: 86_400, failedVerification: false },
      staging: { succeeded: true, soakSeconds: 5400, failedVerification: false },
    },
    freeze: { active: false, windows: [] },
    ...clockFacts(NOW),
    findings: { parity: 0, drift: 0, secrets: 0 },
    requester: 'user:alice',
    breakGlass: false,
    ...overrides,
  };
}

const rule = (id: string, expression: string, message = `${id} failed`): GateRule => ({ id, expression, message });

function evalOne(expression: string, facts: GateFacts = baseFacts()): boolean {
  const out = evaluateGateRules(compileGateRules([rule('r', expression)], { where: WHERE }), facts);
  const r = out.results[0];
  assert.ok(r);
  assert.equal(r.error, undefined, `evaluation error for ${expression}: ${r.error}`);
  return r.passed;
}

function compileError(rules: GateRule[]): DomainError {
  try {
    compileGateRules(rules, { where: WHERE });
  } catch (e) {
    assert.ok(isDomainError(e), `expected a DomainError, got ${String(e)}`);
    assert.equal(e.code, 'invalid_input');
    return e;
  }
  assert.fail(`expected ${JSON.stringify(rules)} to be rejected`);
}

describe('gate rule facts', () => {
  test('strings: equality, startsWith, contains, matches', () => {
    assert.equal(evalOne('release.service == "checkout" && environment.tier == "prod"'), true);
    assert.equal(evalOne('release.provenance.builder.startsWith("https://ci.example.com/")'), true);
    assert.equal(evalOne('release.provenance.source.contains("evil")'), false);
    assert.equal(evalOne('release.version.matches("^[0-9]+\\\\.[0-9]+\\\\.[0-9]+$")'), true);
    assert.equal(evalOne('release.signer == "SHA256:ci-key-id" && release.signerName == "ci"'), true);
    assert.equal(evalOne('requester != "user:alice"'), false);
  });
  test('lists: exists, all, filter, size, in', () => {
    assert.equal(evalOne('approvals.exists(a, "security" in a.groups)'), true);
    assert.equal(evalOne('approvals.all(a, a.user != requester)'), true);
    assert.equal(evalOne('approvals.filter(a, "sre" in a.groups).size() >= 2'), false);
    assert.equal(evalOne('size(approvals) == 2 && approvals[1].user == "user:carol"'), true);
    assert.equal(evalOne('size(freeze.windows) == 0'), true);
    assert.equal(evalOne('approvals.exists(a, a.user == release.signerName)'), false);
  });
  test('maps: lookup, in, field of a value', () => {
    assert.equal(evalOne('"staging" in soak && soak["staging"].soakSeconds >= 3600.0'), true);
    assert.equal(evalOne('soak.dev.succeeded && !soak.dev.failedVerification'), true);
    assert.equal(evalOne('"prod" in soak'), false);
    assert.equal(evalOne('soak.all(env, soak[env].succeeded)'), true);
  });
  test('timestamps compare with now, durations and time zones', () => {
    assert.equal(evalOne('approvals.all(a, a.at < now)'), true);
    assert.equal(evalOne('approvals.all(a, now - a.at < duration("20m"))'), false);
    assert.equal(evalOne('now > timestamp("2025-01-01T00:00:00Z")'), true);
    assert.equal(evalOne('now.getDayOfWeek() == 5'), true);
    assert.equal(evalOne('now.getHours("Asia/Tokyo") == 0'), true); // 15:30 UTC = 00:30 JST
  });
  test('doubles: hour, weekday, approvalCount, findings', () => {
    assert.equal(evalOne('hour == 15.0 && weekday == 5.0'), true);
    assert.equal(evalOne('hour >= 12'), true); // ordering between double and int literals is allowed
    assert.equal(evalOne('approvalCount >= 2.0'), true);
    assert.equal(evalOne('findings.parity + findings.drift + findings.secrets == 0.0'), true);
    assert.equal(evalOne('double(size(approvals)) == approvalCount'), true);
  });
  test('bools: freeze and break-glass', () => {
    assert.equal(evalOne('!freeze.active || breakGlass'), true);
    assert.equal(evalOne('!freeze.active || breakGlass', baseFacts({ freeze: { active: true, windows: ['black-friday'] } })), false);
    assert.equal(
      evalOne('!freeze.active || breakGlass', baseFacts({ freeze: { active: true, windows: ['black-friday'] }, breakGlass: true })),
      true,
    );
  });
  test('clockFacts gives UTC hour and weekday', () => {
    assert.deepEqual(clockFacts(new Date('2025-06-15T23:59:59Z')), { now: new Date('2025-06-15T23:59:59Z'), hour: 23, weekday: 0 });
  });
  test('every declared variable and every message field is usable in an expression', () => {
    const fieldsOf = (t: string) => Object.keys((factMessages as Record<string, Record<string, string>>)[t] ?? {});
    // message values have no ==; they are covered through their fields
    const isMessage = (t: string) => t.startsWith('stagegate.');
    const paths: string[] = [];
    for (const [name, v] of Object.entries(factVariables)) {
      if (!isMessage(v.type)) paths.push(name);
      else for (const f of fieldsOf(v.type)) if (f !== 'provenance') paths.push(`${name}.${f}`);
    }
    for (const f of fieldsOf('stagegate.Provenance')) paths.push(`release.provenance.${f}`);
    for (const f of fieldsOf('stagegate.Approval')) paths.push(`approvals[0].${f}`);
    for (const f of fieldsOf('stagegate.Soak')) paths.push(`soak["staging"].${f}`);
    const rules = paths.map((p, i) => rule(`f${i}`, `${p} == ${p}`));
    const out = evaluateGateRules(compileGateRules(rules, { where: WHERE }), baseFacts());
    assert.equal(out.results.length, 8 + 5 + 2 + 2 + 3 + 3 + 3 + 3);
    assert.equal(out.failed, 0, JSON.stringify(out.results.filter((r) => !r.passed)));
  });
  test('toCelContext copies records and keeps odd map keys as plain keys', () => {
    const facts = baseFacts({ soak: JSON.parse('{"__proto__": {"succeeded": true, "soakSeconds": 1, "failedVerification": false}}') });
    const ctx = toCelContext(facts);
    assert.notEqual(ctx.release, facts.release);
    assert.equal(evalOne('soak["__proto__"].succeeded && size(soak) == 1', facts), true);
  });
});

describe('compileGateRules rejects bad rules at load', () => {
  test('a syntax error names the rule id and the column', () => {
    const e = compileError([rule('ok', 'true'), rule('broken', 'approvalCount >= ')]);
    assert.match(e.message, /environments\[2\]\.rules\[1\] \(broken\): syntax error: .* at column 18/);
    assert.equal(e.details.field, `${WHERE}[1]`);
  });
  test('an unknown variable, with the list of facts as the fix', () => {
    const e = compileError([rule('who', 'approver == "bob"')]);
    assert.match(e.message, /\(who\): type error: Unknown variable: approver at column 1/);
    assert.match(String(e.details.fix), /the facts are: release, environment, approvals/);
  });
  test('an unknown field points at the field', () => {
    const e = compileError([rule('field', 'release.builder == "ci"')]);
    assert.match(e.message, /\(field\): type error: No such key: builder at column 9/);
    assert.match(String(e.details.fix), /Release \{service, version, id, signer, signerName, provenance\}/);
  });
  test('a result that is not bool', () => {
    for (const [expression, type] of [
      ['release.version', 'string'],
      ['approvalCount + 1.0', 'double'],
      ['approvals', 'list<stagegate.Approval>'],
      ['dyn(true)', 'dyn'],
    ] as const) {
      const e = compileError([rule('nb', expression)]);
      assert.match(e.message, new RegExp(`\\(nb\\): the expression returns ${type.replace(/[.<>]/g, '\\$&')}, not bool at column 1`));
    }
  });
  test('wrong types', () => {
    const e = compileError([
      rule('a', 'release.version > 1.0'),
      rule('b', 'hour == 14'),
      rule('c', 'approvals.exists(a, a.groups == "sre")'),
      rule('d', 'now > "2025-01-01"'),
      rule('e', 'approvals[0].at > 5.0'),
    ]);
    assert.match(e.message, /5 invalid gate rules/);
    for (const id of ['a', 'b', 'c', 'd', 'e']) assert.match(e.message, new RegExp(`\\[\\d\\] \\(${id}\\): type error: .* at column \\d+`));
    assert.match(e.message, /\(b\).*\n {4}fix: numeric facts are doubles/);
  });
  test('every bad rule is listed in ONE error, good ones are not', () => {
    const e = compileError([rule('good', 'true'), rule('bad-one', '1 +'), rule('also-good', 'breakGlass'), rule('bad-two', 'x')]);
    assert.doesNotMatch(e.message, /good/);
    assert.match(e.message, /\[1\] \(bad-one\)/);
    assert.match(e.message, /\[3\] \(bad-two\)/);
    assert.equal((e.details.problems as unknown[]).length, 2);
  });
  test('a multi-line expression reports line and column', () => {
    const e = compileError([rule('ml', 'approvalCount >= 2.0 &&\n  release.nope == ""')]);
    assert.match(e.message, /\(ml\): type error: No such key: nope at line 2, column 11/);
  });
  test('matches() needs a valid, literal, non-catastrophic pattern', () => {
    const e = compileError([
      rule('lit', 'release.version.matches(requester)'),
      rule('bad', 'release.version.matches("(")'),
      rule('redos', 'release.version.matches("^(a+)+$")'),
      rule('nested', 'release.version.matches("([0-9]*\\\\.)*x")'),
    ]);
    assert.match(e.message, /\(lit\): matches\(\) needs a string literal pattern at column 25/);
    assert.match(e.message, /\(bad\): invalid regular expression: .*at column 25/);
    assert.match(e.message, /\(redos\): regular expression "\^\(a\+\)\+\$" repeats a repeated group/);
    assert.match(e.message, /\(nested\): regular expression .* repeats a repeated group/);
  });
  test('the rule list itself is validated: ids, duplicates, bounds', () => {
    const e = compileError([rule('Bad_Id', 'true'), rule('dup', 'true'), rule('dup', 'false'), { id: 'long', expression: 'x'.repeat(4097), message: 'm' }, { id: 'empty', expression: '', message: 'm' }]);
    assert.match(e.message, /rules\[0\]\.id \(Bad_Id\)/);
    assert.match(e.message, /rules\[2\]\.id \(dup\): duplicate gate rule id "dup"/);
    assert.match(e.message, /rules\[3\]\.expression \(long\)/);
    assert.match(e.message, /rules\[4\]\.expression \(empty\)/);
    const many = Array.from({ length: 101 }, (_, i) => rule(`r${i}`, 'true'));
    assert.match(compileError(many).message, /at most 100|100/);
  });
  test('an empty list compiles to nothing and evaluates to no failures', () => {
    assert.deepEqual(evaluateGateRules(compileGateRules([], { where: WHERE }), baseFacts()), { results: [], failed: 0 });
  });
});

describe('evaluateGateRules', () => {
  test('every rule runs and every failure is reported with its id and message', () => {
    const compiled = compileGateRules(
      [
        rule('two-sre', 'approvals.filter(a, "sre" in a.groups).size() >= 2', 'prod needs two approvals from sre'),
        rule('no-friday', '!(weekday == 5.0 && hour >= 12.0)', 'no prod deploys on Friday afternoon'),
        rule('signed-by-ci', 'release.signerName == "ci"', 'must be signed by ci'),
        rule('soak', 'soak["staging"].soakSeconds >= 3600.0', 'soak at least 1h in staging'),
      ],
      { where: WHERE },
    );
    const out = evaluateGateRules(compiled, baseFacts());
    assert.deepEqual(out, {
      failed: 2,
      results: [
        { id: 'two-sre', passed: false, message: 'prod needs two approvals from sre' },
        { id: 'no-friday', passed: false, message: 'no prod deploys on Friday afternoon' },
        { id: 'signed-by-ci', passed: true, message: 'must be signed by ci' },
        { id: 'soak', passed: true, message: 'soak at least 1h in staging' },
      ],
    });
  });
  test('a runtime error (missing map key, index out of range) fails the rule with the error, not a crash', () => {
    const compiled = compileGateRules(
      [rule('soak-prod', 'soak["preprod"].succeeded', 'must succeed in preprod'), rule('third', 'approvals[2].user != ""'), rule('fine', 'true')],
      { where: WHERE },
    );
    const out = evaluateGateRules(compiled, baseFacts());
    assert.equal(out.failed, 2);
    assert.equal(out.results[0]?.passed, false);
    assert.match(out.results[0]?.message ?? '', /^must succeed in preprod \(evaluation error: No such key: preprod\)$/);
    assert.match(out.results[1]?.error ?? '', /index out of bounds/);
    assert.deepEqual(out.results[2], { id: 'fine', passed: true, message: 'fine failed' });
  });
  test('facts of the wrong shape fail the rules, never throw', () => {
    const compiled = compileGateRules([rule('a', 'hour >= 12.0'), rule('b', 'release.provenance.builder == "x"')], { where: WHERE });
    const broken = { ...baseFacts(), hour: 12n, release: null } as unknown as GateFacts;
    const out = evaluateGateRules(compiled, broken);
    assert.equal(out.failed, 2);
    assert.ok(out.results.every((r) => r.error !== undefined));
    const out2 = evaluateGateRules(compiled, null as unknown as GateFacts);
    assert.equal(out2.failed, 2);
  });
});

describe('helpers', () => {
  test('lineColumn', () => {
    assert.deepEqual(lineColumn('abc', 0), { line: 1, column: 1 });
    assert.deepEqual(lineColumn('ab\ncd', 4), { line: 2, column: 2 });
    assert.deepEqual(lineColumn('ab', 99), { line: 1, column: 3 });
  });
  test('hasNestedQuantifier', () => {
    for (const p of ['(a+)+', '(a*)*', '^(\\w+\\s?)*$', '((ab)+c)+', '(a{2,})+', '(x+y)*']) assert.equal(hasNestedQuantifier(p), true, p);
    for (const p of ['a+', '^v[0-9]+\\.[0-9]+$', '(ab)+', '(a+)?', '[(a+)]+', '\\(a+\\)+', '(a+){2}', '(abc|def)*']) assert.equal(hasNestedQuantifier(p), false, p);
  });
});

describe('docs/gate-rules.md examples', () => {
  test('every rule in the documented examples compiles, and they behave as described', () => {
    const doc = readFileSync(new URL('../../../docs/gate-rules.md', import.meta.url), 'utf8');
    const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    const rules: GateRule[] = [];
    for (const b of blocks) {
      const y = parseYaml(b) as { rules?: GateRule[]; environments?: Array<{ rules?: GateRule[] }>; services?: Array<{ rules?: Record<string, GateRule[]> }> };
      rules.push(
        ...(y.rules ?? []),
        ...(y.environments ?? []).flatMap((e) => e.rules ?? []),
        ...(y.services ?? []).flatMap((sv) => Object.values(sv.rules ?? {}).flat()),
      );
    }
    assert.ok(rules.length >= 4, 'the docs show at least four example rules');
    const seen = new Set<string>();
    const unique = rules.filter((r) => {
      if (seen.has(r.id)) return false; // a service rule replacing an environment rule
      seen.add(r.id);
      return true;
    });
    const compiled = compileGateRules(unique, { where: 'docs/gate-rules.md' });
    const out = evaluateGateRules(compiled, baseFacts());
    const byId = new Map(out.results.map((r) => [r.id, r]));
    assert.equal(byId.get('no-friday-afternoon')?.passed, false, 'NOW is a Friday afternoon');
    assert.equal(byId.get('staging-soak')?.passed, true);
    assert.equal(byId.get('built-by-our-ci')?.passed, true);
    assert.equal(byId.get('two-sre-approvals')?.passed, false, 'only one sre approval in the base facts');
    assert.equal(byId.get('security-approval')?.passed, true);
    assert.equal(byId.get('semver')?.passed, true);
    assert.ok(unique.length >= 12, `expected the documented examples, found ${unique.length}`);
  });
});

// ---- property tests ----

const tokens = [
  ...Object.keys(factVariables),
  ...new Set(Object.values(factMessages).flatMap((f) => Object.keys(f))),
  '.', '(', ')', '[', ']', '{', '}', ',', ':', '?', '!', '-', '+', '*', '/', '%', '==', '!=', '<', '<=', '>', '>=', '&&', '||', 'in',
  'true', 'false', 'null', '0', '1', '2.0', '3600.0', '1u', '"sre"', '"staging"', "'x'", 'b"x"', '"(a+)+"', '"["',
  'exists', 'all', 'exists_one', 'filter', 'map', 'size', 'has', 'matches', 'startsWith', 'contains', 'duration("1h")',
  'timestamp("2025-01-01T00:00:00Z")', 'int', 'double', 'string', 'dyn', 'type', 'a', 'x', 'cel.bind', 'getHours', 'getDayOfWeek',
];
const tokenSoup = fc.array(fc.constantFrom(...tokens), { minLength: 1, maxLength: 25 }).map((t) => t.join(' '));
const shapedExpr = fc
  .tuple(
    fc.constantFrom('approvals.exists(a, ', 'approvals.all(a, ', 'soak.all(e, ', '(', '!(', 'size(approvals) > 0 && ('),
    tokenSoup,
    fc.constantFrom(')', '))', ''),
  )
  .map(([a, b, c]) => `${a}${b}${c}`);
/** well-typed boolean expressions over the facts (some fail at evaluation: missing keys, indexes) */
const envName = fc.constantFrom('"dev"', '"staging"', '"prod"', '"__proto__"');
const dbl = fc.oneof(
  fc.constantFrom('hour', 'weekday', 'approvalCount', 'findings.parity', 'findings.secrets', 'double(size(approvals))', '0.0', '3600.0', '-1.5'),
  envName.map((k) => `soak[${k}].soakSeconds`),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (/[.e]/.test(String(d)) ? String(d) : `${d}.0`)),
);
const strExpr = fc.oneof(
  fc.constantFrom('release.service', 'release.version', 'release.signer', 'requester', 'environment.tier', 'release.provenance.builder', 'approvals[0].user'),
  fc.string({ maxLength: 8 }).map((t) => JSON.stringify(t)),
);
const cmp = fc.constantFrom('==', '!=', '<', '<=', '>', '>=');
const { boolExpr } = fc.letrec<{ boolExpr: string }>((tie) => ({
  boolExpr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('true', 'false', 'freeze.active', 'breakGlass', 'approvals.all(a, a.at < now)', 'now.getDayOfWeek("Europe/Berlin") == 5'),
    fc.tuple(dbl, cmp, dbl).map(([a, o, b]) => `${a} ${o} ${b}`),
    fc.tuple(strExpr, cmp, strExpr).map(([a, o, b]) => `${a} ${o} ${b}`),
    fc.tuple(strExpr, fc.constantFrom('startsWith', 'endsWith', 'contains')).map(([a, m]) => `${a}.${m}("s")`),
    envName.map((k) => `${k} in soak`),
    envName.map((k) => `soak[${k}].succeeded`),
    strExpr.map((x) => `approvals.exists(a, a.user == ${x} && "sre" in a.groups)`),
    tie('boolExpr').map((b) => `!(${b})`),
    fc.tuple(tie('boolExpr'), fc.constantFrom('&&', '||'), tie('boolExpr')).map(([a, o, b]) => `(${a}) ${o} (${b})`),
    fc.tuple(tie('boolExpr'), tie('boolExpr'), tie('boolExpr')).map(([c, a, b]) => `${c} ? ${a} : ${b}`),
  ),
}));
/** a well-typed expression with a few characters changed: mostly errors, near valid ones */
const mutated = fc
  .tuple(boolExpr, fc.nat(), fc.constantFrom('', '(', ')', '"', '.', ' 1', '==', 'x'))
  .map(([e, at, ins]) => {
    const i = at % (e.length + 1);
    return `${e.slice(0, i)}${ins}${e.slice(i + 1)}`;
  });

const anyExpression = fc.oneof(
  boolExpr,
  mutated,fc.string({ maxLength: 120 }), fc.string({ unit: 'binary', maxLength: 60 }), tokenSoup, shapedExpr);

const str = fc.string({ maxLength: 20 });
const num = fc.oneof(fc.double(), fc.integer({ min: 0, max: 100_000 }));
const date = fc.date();
const factsArb: fc.Arbitrary<GateFacts> = fc.record({
  release: fc.record({
    service: str,
    version: str,
    id: str,
    signer: str,
    signerName: str,
    provenance: fc.record({ builder: str, source: str, buildType: str }),
  }),
  environment: fc.record({ name: str, tier: fc.constantFrom('dev', 'test', 'staging', 'prod') }),
  approvals: fc.array(fc.record({ user: str, groups: fc.array(str, { maxLength: 4 }), at: date }), { maxLength: 4 }),
  approvalCount: num,
  soak: fc.dictionary(fc.oneof(fc.constantFrom('dev', 'staging', 'prod', '__proto__', 'constructor'), str), fc.record({ succeeded: fc.boolean(), soakSeconds: num, failedVerification: fc.boolean() }), { maxKeys: 4 }),
  freeze: fc.record({ active: fc.boolean(), windows: fc.array(str, { maxLength: 3 }) }),
  now: date,
  hour: num,
  weekday: num,
  findings: fc.record({ parity: num, drift: num, secrets: num }),
  requester: str,
  breakGlass: fc.boolean(),
});

describe('properties', () => {
  test('any expression either compiles or gives one DomainError; compiled ones never throw at evaluation', () => {
    let compiledCount = 0;
    fc.assert(
      fc.property(anyExpression, fc.array(factsArb, { minLength: 1, maxLength: 3 }), (expression, factSets) => {
        let compiled: CompiledGateRule[] | undefined;
        try {
          compiled = compileGateRules([rule('p', expression)], { where: WHERE });
        } catch (e) {
          assert.ok(e instanceof DomainError, `not a DomainError for ${JSON.stringify(expression)}: ${String(e)}`);
          assert.equal(e.code, 'invalid_input');
          assert.match(e.message, /\(p\)/);
          return;
        }
        compiledCount++;
        for (const facts of factSets) {
          const out = evaluateGateRules(compiled, facts);
          assert.equal(out.results.length, 1);
          assert.equal(typeof out.results[0]?.passed, 'boolean');
          assert.equal(out.failed, out.results[0]?.passed ? 0 : 1);
        }
      }),
      { numRuns: 3000 },
    );
    assert.ok(compiledCount > 300, `only ${compiledCount} generated expressions compiled; the generator is too weak`);
  });
  test('every generated well-typed boolean expression compiles', () => {
    fc.assert(
      fc.property(boolExpr, (expression) => {
        assert.equal(compileGateRules([rule('w', expression)], { where: WHERE }).length, 1);
      }),
      { numRuns: 1000 },
    );
  });
  test('realistic rules never throw on arbitrary valid facts', () => {
    const compiled = compileGateRules(
      [
        rule('a', 'approvals.filter(a, "sre" in a.groups).size() >= 2'),
        rule('b', 'soak["staging"].soakSeconds >= 3600.0 && !soak["staging"].failedVerification'),
        rule('c', 'approvals.all(a, now - a.at < duration("24h"))'),
        rule('d', 'now.getDayOfWeek("Europe/Berlin") != 5 || now.getHours("Europe/Berlin") < 12'),
        rule('e', 'release.version.matches("^[0-9]+\\\\.[0-9]+")'),
        rule('f', 'int(hour) / int(approvalCount) >= 0'),
      ],
      { where: WHERE },
    );
    fc.assert(
      fc.property(factsArb, (facts) => {
        const out = evaluateGateRules(compiled, facts);
        assert.equal(out.results.length, 6);
        assert.equal(out.failed, out.results.filter((r) => !r.passed).length);
      }),
      { numRuns: 1000 },
    );
  });
});
