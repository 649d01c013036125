import { inspect } from 'node:util';

/**
 * The key that encrypts every secret hookflow keeps at rest (tenants' Stripe signing secrets, Clerk
 * keys, outbound endpoint secrets). Wrapped so that logging or serialising the config can never
 * print it: the bytes come out only through `bytes()`.
 */
export class MasterKey {
  readonly #bytes: Buffer;

  private constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  /** 32 bytes, written as 64 hex digits or base64 (standard or url-safe), as `openssl rand -base64 32` prints. */
  static parse(text: string): MasterKey {
    const value = text.trim();
    let bytes: Buffer | undefined;
    if (/^[0-9a-fA-F]{64}$/.test(value)) bytes = Buffer.from(value, 'hex');
    else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value))
      bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes?.length !== 32) {
      throw new MasterKeyError(
        'must be 32 random bytes written as 64 hex digits or 44 base64 characters (generate one with `openssl rand -base64 32`)',
      );
    }
    return new MasterKey(bytes);
  }

  bytes(): Buffer {
    return this.#bytes;
  }

  toJSON(): string {
    return '[redacted]';
  }

  toString(): string {
    return 'MasterKey([redacted])';
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

export class MasterKeyError extends Error {
  override readonly name = 'MasterKeyError';
}
