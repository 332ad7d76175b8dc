/**
 * Fake secrets built at run time, so no real-looking secret is committed as a literal (gitleaks'
 * own tests do the same). Random bytes make each run different; every builder matches its rule.
 */
import { randomBytes } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const DIGITS = '0123456789';

export function randomFrom(alphabet: string, n: number): string {
  return Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join('');
}
/** random alphanumerics with at least one digit and one letter (the generic rule wants a digit) */
export const alnum = (n: number): string => `${randomFrom(ALNUM, n - 2)}7q`;

export const fakes = {
  awsAccessKeyId: () => `AKIA${randomFrom(BASE32, 16)}`,
  githubPat: () => `ghp_${alnum(36)}`,
  slackBotToken: () => `xoxb-${randomFrom(DIGITS, 12)}-${randomFrom(DIGITS, 12)}-${alnum(24)}`,
  stripeSecretKey: () => `sk_${'live'}_${alnum(24)}`,
  privateKey: () => {
    const body = randomBytes(600).toString('base64').match(/.{1,64}/g)?.join('\n') ?? '';
    return [`-----BEGIN RSA ${'PRIVATE'} KEY-----`, body, `-----END RSA ${'PRIVATE'} KEY-----`].join('\n');
  },
  genericApiValue: () => alnum(32),
};
