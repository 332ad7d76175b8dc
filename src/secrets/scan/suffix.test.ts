/**
 * The semi-generic speed-up: matching REST of `(?i)[\w.-]{0,50}?REST` and extending the match back
 * must give exactly the matches (start, end, every group) of the whole regex, on any text.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { RE2JS } from 're2js';
import { extendBack } from './detect.ts';
import { defaultRules, hasTopLevelAlternation } from './rules.ts';
import { fakes } from './test-fakes.ts';

type Span = number[];
function whole(re: RE2JS, text: string): Span[] {
  const out: Span[] = [];
  const m = re.matcher(text);
  while (m.find()) {
    const s = [m.start(), m.end()];
    for (let g = 1; g <= m.groupCount(); g++) s.push(m.start(g), m.end(g));
    out.push(s);
  }
  return out;
}
function viaSuffix(re: RE2JS, text: string): Span[] {
  const out: Span[] = [];
  const m = re.matcher(text);
  let prevEnd = 0;
  while (m.find()) {
    const s = [extendBack(text, m.start(), prevEnd), m.end()];
    prevEnd = m.end();
    for (let g = 1; g <= m.groupCount(); g++) s.push(m.start(g), m.end(g));
    out.push(s);
  }
  return out;
}

const rules = defaultRules().rules.filter((r) => r.suffix);
/** the generic rule (matches the random texts often) and every sixth other one */
const sample = rules.filter((r, i) => r.id === 'generic-api-key' || i % 6 === 0);

describe('semi-generic rules: REST + extendBack equals the whole regex', () => {
  test('most semi-generic rules get the speed-up; a top-level alternation keeps the whole regex', () => {
    assert.ok(rules.length > 80, `${rules.length}`);
    assert.ok(rules.some((r) => r.id === 'generic-api-key'));
    assert.ok(!defaultRules().rules.find((r) => r.id === 'atlassian-api-token')?.suffix);
    assert.equal(hasTopLevelAlternation('a(b|c)[|]\\|d'), false);
    assert.equal(hasTopLevelAlternation('a(b|c)|d'), true);
  });

  const piece = fc.oneof(
    fc.constantFrom(
      'api_key',
      'apiKey',
      'API-KEY',
      'password',
      'x.y-z_',
      'token',
      'secret',
      'auth',
      'ſecret',
      'KEY',
      ' = ',
      ': ',
      '=',
      '"',
      "'",
      '\n',
      ' ',
      '\t',
      ',',
      '=>',
      '||',
      ';',
      'a1b2c3d4e5f6g7h8',
      'Zx9Qw8Er7Ty6Ui5Op4',
      'w'.repeat(60),
      '0123456789abcdef0123',
    ),
    fc.string({ unit: fc.constantFrom(...'aZ09_.-=: "\'\n'.split('')), maxLength: 30 }),
    fc.constant(fakes.genericApiValue()),
    fc.constant(fakes.awsAccessKeyId()),
    // keyword, operator and value, as in configuration: most texts then match something
    fc
      .tuple(
        fc.constantFrom('', 'my_', 'a.b-', 'x'.repeat(55), 'ſ', ' '),
        fc.constantFrom('api_key', 'apiKey', 'token', 'secret', 'password', 'auth', 'access', 'KEY', 'datadog', 'heroku', 'twilio', 'okta', 'sendgrid'),
        fc.constantFrom('', '_id', ' ', '\t', '-x', '.value'),
        fc.constantFrom('=', ': ', ' = ', '=>', ':=', ',', '||', '?='),
        fc.constantFrom('', '"', "'", ' \n '),
        fc.oneof(fc.constant(fakes.genericApiValue()), fc.stringMatching(/^[a-z0-9]{8,40}$/), fc.stringMatching(/^[A-Za-z0-9_.=-]{8,60}$/)),
        fc.constantFrom('', '"', ';', '\n', ' ', '\\n'),
      )
      .map((t) => t.join('')),
  );
  test('property: identical matches on random texts', () => {
    assert.ok(sample.length >= 4, sample.map((r) => r.id).join(','));
    let matched = 0;
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 25 }), (parts) => {
        const text = parts.join('');
        for (const r of sample) {
          const full = r.regex as RE2JS;
          const want = whole(full, text);
          matched += want.length;
          assert.deepEqual(viaSuffix(r.suffix as RE2JS, text), want, `${r.id} on ${JSON.stringify(text)}`);
        }
      }),
      { numRuns: 300 },
    );
    assert.ok(matched > 100, `the texts produced only ${matched} matches`);
  });
  test('every semi-generic rule agrees on a text of typical assignments', () => {
    const text = [
      `my_service_api_key = "${fakes.genericApiValue()}"`,
      `password: ${fakes.genericApiValue()}`,
      `${'x'.repeat(70)}token=${fakes.genericApiValue()}`,
      `export AWS_SECRET=${fakes.genericApiValue()};`,
      `heroku_api_key="${'1234abcd-'.repeat(4)}"`,
    ].join('\n');
    let matched = 0;
    for (const r of rules) {
      const want = whole(r.regex as RE2JS, text);
      matched += want.length;
      assert.deepEqual(viaSuffix(r.suffix as RE2JS, text), want, r.id);
    }
    assert.ok(matched >= 4, `${matched}`);
  });
});
