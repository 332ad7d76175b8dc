import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type Finding, redact, scanAllowlistSchema, scanText, sha256Hex, shannonEntropy } from './detect.ts';
import { defaultRules, loadRules } from './rules.ts';
import { alnum, fakes } from './test-fakes.ts';

const ids = (fs: Finding[]) => fs.map((f) => f.ruleId);

describe('rules', () => {
  test('the vendored gitleaks rules load and compile with re2js', () => {
    const rs = defaultRules();
    assert.ok(rs.rules.length >= 200, `${rs.rules.length} rules`);
    assert.deepEqual(rs.skipped, []);
    assert.ok(rs.global.length >= 1);
    const generic = rs.rules.find((r) => r.id === 'generic-api-key');
    assert.ok(generic?.keywords.includes('token') && generic.entropy === 3.5 && generic.allowlists.length >= 2);
    const sonar = rs.rules.find((r) => r.id === 'sonar-api-token');
    assert.equal(sonar?.secretGroup, 2);
  });
  test('a rule re2js cannot compile is skipped and reported, the others still load', () => {
    const rs = loadRules(`[[rules]]\nid = "bad"\nregex = '''(?=lookahead)x'''\nkeywords = ["x"]\n\n[[rules]]\nid = "good"\nregex = '''tok_[a-z]{8}'''\n`);
    assert.deepEqual(rs.rules.map((r) => r.id), ['good']);
    assert.equal(rs.skipped[0]?.id, 'bad');
  });
  test('broken TOML and a non-gitleaks document are clear errors naming the file', () => {
    assert.throws(() => loadRules('[[rules]\nid=', 'x.toml'), (e: Error & { details?: { file?: string } }) => /x\.toml is not valid TOML/.test(e.message) && e.details?.file === 'x.toml');
    assert.throws(() => loadRules('title = "x"', 'y.toml'), /y\.toml is not a gitleaks configuration/);
  });
});

describe('scanText: positives', () => {
  const cases: [string, string, (s: string) => string][] = [
    ['aws-access-token', fakes.awsAccessKeyId(), (s) => `aws_access_key_id = ${s}\n`],
    ['github-pat', fakes.githubPat(), (s) => `GITHUB_TOKEN=${s}\n`],
    ['slack-bot-token', fakes.slackBotToken(), (s) => `slack: "${s}"\n`],
    ['stripe-access-token', fakes.stripeSecretKey(), (s) => `const stripe = require('stripe')('${s}');\n`],
    ['private-key', fakes.privateKey(), (s) => `key: |\n${s}\n`],
    ['generic-api-key', fakes.genericApiValue(), (s) => `  api_key: "${s}"\n`],
  ];
  for (const [rule, secret, wrap] of cases) {
    test(`${rule} is found, redacted, hashed`, () => {
      const text = `# config\nname: demo\n${wrap(secret)}other: 1\n`;
      const fs = scanText(text, { file: 'conf/app.yaml' });
      const f = fs.find((x) => x.ruleId === rule);
      assert.ok(f, `expected ${rule}, got ${JSON.stringify(ids(fs))}`);
      assert.equal(f.file, 'conf/app.yaml');
      assert.equal(f.line, rule === 'private-key' ? 4 : 3);
      assert.equal(text.split('\n')[f.line - 1]?.slice(f.column - 1, f.column + 3), secret.slice(0, 4));
      assert.equal(f.match, `${secret.slice(0, 4)}…`);
      assert.equal(f.secretHash, sha256Hex(secret));
      assert.ok(f.entropy > 0);
      assert.ok(!JSON.stringify(fs).includes(secret.slice(0, 8)), 'no more than 4 characters of the secret anywhere');
    });
  }
  test('a generic finding gives way to a specific rule on the same line (as in gitleaks)', () => {
    assert.deepEqual(ids(scanText(`token = "${fakes.githubPat()}"\n`)), ['github-pat']);
  });
  test('several findings come back in order of position', () => {
    const fs = scanText(`a\n${fakes.githubPat()}\n\nx ${fakes.awsAccessKeyId()}\n`);
    assert.deepEqual(fs.map((f) => [f.ruleId, f.line, f.column]), [['github-pat', 2, 1], ['aws-access-token', 4, 3]]);
  });
  test('a secret far from the start of a large text is found (keyword windows)', () => {
    const filler = 'lorem ipsum dolor sit amet\n'.repeat(20_000);
    const fs = scanText(`${filler}${fakes.githubPat()}\n${filler}`);
    assert.deepEqual(fs.map((f) => [f.ruleId, f.line]), [['github-pat', 20_001]]);
  });
});

describe('scanText: negatives', () => {
  test('no keyword, no finding: a token-shaped string without its prefix', () => {
    assert.deepEqual(scanText(`value = "${alnum(36)}"\n`), []);
  });
  test('low entropy: a repetitive token is not a secret', () => {
    assert.deepEqual(scanText(`GITHUB_TOKEN=ghp_${'ab'.repeat(18)}\n`).filter((f) => f.ruleId === 'github-pat'), []);
    assert.deepEqual(scanText('api_key = "aaaaaaaaaaaaaaaaaaaa1"\n'), []);
  });
  test('the generic rule wants a digit in the secret', () => {
    assert.deepEqual(scanText('password = "CorrectHorseBatteryStaple"\n'), []);
  });
  test('rule allowlist: AWS example keys ending in EXAMPLE', () => {
    assert.deepEqual(scanText(`aws_access_key_id = AKIA${'IOSFODNN7'}EXAMPLE\n`), []);
  });
  test('global allowlist: template placeholders and lock files', () => {
    assert.deepEqual(scanText(`api_key: ${'$'}{API_KEY}\ntoken = "{{ .Values.token }}"\n`), []);
    assert.deepEqual(scanText(`x ${fakes.githubPat()}\n`, { file: 'web/node_modules/lib/index.js' }), []);
    assert.deepEqual(scanText(`x ${fakes.githubPat()}\n`, { file: 'package-lock.json' }), []);
  });
  test('generic stopwords', () => {
    assert.deepEqual(scanText('secret_name = "my-application-secret-name-1"\n'), []);
  });
  test('a path rule only fires on its paths: kubernetes secret manifests in YAML only', () => {
    const manifest = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: ${Buffer.from(alnum(24)).toString('base64')}\n`;
    assert.ok(ids(scanText(manifest, { file: 'k8s/secret.yaml' })).includes('kubernetes-secret-yaml'));
    assert.ok(!ids(scanText(manifest, { file: 'k8s/secret.txt' })).includes('kubernetes-secret-yaml'));
  });
  test('a path-only rule (pkcs12-file) fires on the file name', () => {
    const fs = scanText('binary-ish', { file: 'certs/server.p12' });
    assert.deepEqual(ids(fs), ['pkcs12-file']);
    assert.equal(fs[0]?.secretHash, sha256Hex('binary-ish'));
  });
});

describe('project allowlist', () => {
  const secret = fakes.githubPat();
  const text = `GITHUB_TOKEN=${secret}\n`;
  test('entries need a reason and at least one matcher; regexes must be RE2', () => {
    assert.equal(scanAllowlistSchema.safeParse([{ path: 'x' }]).success, false);
    assert.equal(scanAllowlistSchema.safeParse([{ reason: 'because' }]).success, false);
    assert.equal(scanAllowlistSchema.safeParse([{ regex: '(?=x)', reason: 'lookahead' }]).success, false);
    assert.equal(scanAllowlistSchema.safeParse([{ secretHash: 'ABC', reason: 'bad hash' }]).success, false);
    assert.equal(scanAllowlistSchema.safeParse([{ path: '^test/', reason: 'fixtures' }]).success, true);
  });
  test('by secretHash, path or regex (all given must match); suppressed findings report the reason', () => {
    const seen: string[] = [];
    const allowlist = scanAllowlistSchema.parse([{ secretHash: sha256Hex(secret), reason: 'revoked test token' }]);
    assert.deepEqual(scanText(text, { file: 'a.env', allowlist, onSuppressed: (f, r) => seen.push(`${f.ruleId}:${r}`) }), []);
    assert.deepEqual(seen, ['github-pat:revoked test token']);
    const byPath = scanAllowlistSchema.parse([{ path: '^test/fixtures/', reason: 'fixtures' }]);
    assert.deepEqual(scanText(text, { file: 'test/fixtures/a.env', allowlist: byPath }), []);
    assert.equal(scanText(text, { file: 'src/a.env', allowlist: byPath }).length, 1);
    const both = scanAllowlistSchema.parse([{ path: '^test/', regex: '^ghp_', reason: 'fixtures' }]);
    assert.equal(scanText(text, { file: 'src/a.env', allowlist: both }).length, 1);
    assert.deepEqual(scanText(text, { file: 'test/a.env', allowlist: both }), []);
  });
});

describe('helpers', () => {
  test('entropy and redaction', () => {
    assert.equal(shannonEntropy(''), 0);
    assert.equal(shannonEntropy('aaaa'), 0);
    assert.equal(shannonEntropy('abcd'), 2);
    assert.equal(redact('abcdefghij'), 'abcd…');
    assert.equal(redact('abcdef'), 'abc…');
    assert.equal(redact('a'), '…');
  });
});

describe('property', () => {
  const interesting = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc
      .tuple(fc.constantFrom('api_key = "', 'token: ', 'ghp_', 'AKIA', 'xoxb-1234567890-', 'password=', '-----BEGIN PRIVATE KEY-----\n', 'kind: secret\ndata:\n  a: '), fc.string({ unit: fc.constantFrom(...'abcXYZ0129+/=-_\n "\''.split('')), maxLength: 120 }))
      .map(([a, b]) => a + b),
  );
  test('scanText never throws, and a finding never shows more than 4 characters of the secret', () => {
    fc.assert(
      fc.property(fc.array(interesting, { maxLength: 6 }), fc.constantFrom(undefined, 'a.yaml', 'x/y.env', 'c.p12'), (parts, file) => {
        const text = parts.join('\n');
        const fs = scanText(text, file === undefined ? {} : { file });
        for (const f of fs) {
          if (f.ruleId === 'pkcs12-file') continue; // a path-only rule: the secret is the whole file
          assert.ok(f.match.endsWith('…'));
          assert.ok(Array.from(f.match).length <= 5, f.match);
          assert.ok(f.line >= 1 && f.column >= 1);
          assert.match(f.secretHash, /^[0-9a-f]{64}$/);
        }
      }),
      { numRuns: 300 },
    );
  });
});
