/**
 * ECDSA P-256 signing keys: generation, loading (P-256 only), key ids and writing a key pair.
 * A key id is the Sigstore `publicKey.hint`: standard padded base64 of sha256(SPKI DER).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { DomainError } from '../domain/errors.ts';

export interface SigningKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
  keyId: string;
}

/** Key pair names: a file-name-safe word. */
export const KEY_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

export function generateSigningKey(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

function assertP256(key: KeyObject, source: string, what: string): void {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    const found = key.asymmetricKeyType === 'ec' ? `EC ${curve ?? 'unknown curve'}` : String(key.asymmetricKeyType);
    throw new DomainError('invalid_input', `${what} in ${source} is ${found}, not ECDSA P-256`, {
      file: source,
      fix: 'use an ECDSA P-256 key, e.g. one made by `stagegate keys generate --out DIR`',
    });
  }
}

/** Load a PKCS8 (or SEC1) PEM private key; refuses anything but P-256 and names the file. */
export function loadPrivateKey(pem: string, source: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (e) {
    const encrypted = /ENCRYPTED/.test(pem);
    throw new DomainError(
      'invalid_input',
      encrypted
        ? `private key in ${source} is encrypted with a passphrase`
        : `${source} does not hold a PEM private key (${(e as Error).message})`,
      {
        file: source,
        fix: encrypted
          ? 'decrypt it first: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.plain'
          : 'pass the .key file written by `stagegate keys generate` (PEM, "BEGIN PRIVATE KEY")',
      },
    );
  }
  assertP256(key, source, 'private key');
  return key;
}

/** Load an SPKI PEM public key; refuses private keys and anything but P-256. */
export function loadPublicKey(pem: string, source: string): KeyObject {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new DomainError('invalid_input', `${source} holds a private key where a public key was expected`, {
      file: source,
      fix: 'pass the .pub file of the key pair and keep the .key file secret',
    });
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new DomainError('invalid_input', `${source} does not hold a PEM public key (${(e as Error).message})`, {
      file: source,
      fix: 'pass the .pub file written by `stagegate keys generate` (PEM, "BEGIN PUBLIC KEY")',
    });
  }
  assertP256(key, source, 'public key');
  return key;
}

export interface WrittenKeyPair {
  keyId: string;
  privateKeyPath: string;
  publicKeyPath: string;
}

async function writeNew(path: string, text: string, mode: number): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'wx', mode);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DomainError(
      code === 'EEXIST' ? 'conflict' : 'invalid_input',
      code === 'EEXIST' ? `${path} already exists; stagegate never overwrites a key` : `cannot create ${path}: ${(e as Error).message}`,
      {
        file: path,
        fix: code === 'EEXIST' ? 'choose another --name or --out directory, or move the old key away first' : 'check that the directory exists and is writable',
      },
    );
  }
  try {
    await handle.writeFile(text);
    await handle.chmod(mode);
  } finally {
    await handle.close();
  }
}

/** Write `<dir>/<name>.key` (0600) and `<dir>/<name>.pub`, refusing to overwrite either. */
export async function writeKeyPair(dir: string, name: string): Promise<WrittenKeyPair> {
  if (!KEY_NAME_RE.test(name)) {
    throw new DomainError('invalid_input', `key name "${name.slice(0, 80)}" is not a plain file name`, {
      field: 'name',
      fix: 'use letters, digits, dot, dash or underscore (at most 64), e.g. --name release',
    });
  }
  const pair = generateSigningKey();
  const privateKeyPath = join(dir, `${name}.key`);
  const publicKeyPath = join(dir, `${name}.pub`);
  await writeNew(privateKeyPath, pair.privateKeyPem, 0o600);
  try {
    await writeNew(publicKeyPath, pair.publicKeyPem, 0o644);
  } catch (e) {
    await unlink(privateKeyPath).catch(() => undefined);
    throw e;
  }
  return { keyId: pair.keyId, privateKeyPath, publicKeyPath };
}
