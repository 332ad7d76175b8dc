/**
 * The format-keeping masking methods. Each turns a string into a string of the declared shape,
 * drawn from the keyed stream of (method, scope, value), so equal inputs give equal outputs and the
 * output says nothing about the input without the key. The empty string stays empty (a blank
 * stays blank). No method throws on any string.
 */
import { BASE32, type ByteSource, DIGITS, LOWER, pick, type Prf, token, UPPER } from './prf.ts';
import type { MaskingRule } from './policy-schema.ts';

export type MaskFn = (value: string) => string;

const DOMAIN_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const NONZERO = '123456789';

/**
 * Keep the character classes: an ASCII digit becomes a digit (the first digit: a 0 stays 0, as in a
 * trunk prefix or zero padding, and any other becomes 1-9, so numbers keep their number of digits),
 * a-z a lowercase letter, A-Z an uppercase
 * letter, any other ASCII character (separators, `+`, `_`, spaces) stays, and a non-ASCII
 * character becomes a lowercase letter. Length in code points is kept.
 */
export function keepClasses(next: ByteSource, value: string): string {
  let out = '';
  let firstDigit = true;
  for (const ch of value) {
    if (ch >= '0' && ch <= '9') {
      out += !firstDigit ? pick(next, DIGITS) : ch === '0' ? '0' : pick(next, NONZERO);
      firstDigit = false;
    } else if (ch >= 'a' && ch <= 'z') out += pick(next, LOWER);
    else if (ch >= 'A' && ch <= 'Z') out += pick(next, UPPER);
    else if (ch.charCodeAt(0) < 128) out += ch;
    else out += pick(next, LOWER);
  }
  return out;
}

function emailMask(prf: Prf, scope: string, rule: Extract<MaskingRule, { method: 'email' }>): MaskFn {
  const stream = prf.forScope('email', scope);
  return (value) => {
    if (value === '') return '';
    const normalized = value.trim().toLowerCase();
    const at = normalized.lastIndexOf('@');
    const inputDomain = at >= 0 ? normalized.slice(at + 1) : '';
    const domain = rule.domain === 'keep' ? (DOMAIN_RE.test(inputDomain) && inputDomain.length <= 253 ? inputDomain : 'example.com') : rule.domain;
    return `${token(stream(normalized), rule.length, BASE32)}@${domain}`;
  };
}

function phoneMask(prf: Prf, scope: string, countryCodeDigits: number): MaskFn {
  const stream = prf.forScope('phone', scope);
  return (value) => {
    if (value === '') return '';
    let kept = '';
    let rest = value;
    const plus = /^(\s*\+\s*)/.exec(value);
    if (plus && countryCodeDigits > 0) {
      // keep the `+` and the first countryCodeDigits digits (with any separators between them)
      let i = plus[1]!.length;
      let digits = 0;
      while (i < value.length && digits < countryCodeDigits) {
        const c = value[i]!;
        if (c >= '0' && c <= '9') digits++;
        else if (!/[\s().-]/.test(c)) break;
        i++;
      }
      kept = value.slice(0, i);
      rest = value.slice(i);
    }
    return kept + keepClasses(stream(value), rest);
  };
}

function idMask(prf: Prf, scope: string, prefixes: readonly string[]): MaskFn {
  const longestFirst = [...prefixes].sort((a, b) => b.length - a.length);
  const stream = prf.forScope('id', scope);
  return (value) => {
    if (value === '') return '';
    const prefix = longestFirst.find((p) => value.startsWith(p) && value.length > p.length) ?? '';
    return prefix + keepClasses(stream(value), value.slice(prefix.length));
  };
}

function tokenMask(prf: Prf, method: string, scope: string, length: number): MaskFn {
  const stream = prf.forScope(method, scope);
  return (value) => (value === '' ? '' : token(stream(value), length, BASE32));
}

/** The string masker of one rule; `defaultScope` (the column name or last pointer token) unless the rule sets `scope`. */
export function compileMask(rule: MaskingRule, prf: Prf, defaultScope: string): MaskFn {
  const scope = rule.scope ?? defaultScope;
  switch (rule.method) {
    case 'email':
      return emailMask(prf, scope, rule);
    case 'phone':
      return phoneMask(prf, scope, rule.countryCodeDigits);
    case 'id':
      return idMask(prf, scope, rule.prefixes);
    case 'name':
    case 'text':
      return tokenMask(prf, rule.method, scope, rule.length);
  }
}

