import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { MasterKey } from './master-key';

/**
 * Encrypts small secrets for storage. Sealed strings look like `v1:<iv>:<tag>:<ciphertext>` (base64
 * parts): the version prefix lets a later format or key change be rolled out while old rows still
 * open.
 */
export interface SecretBox {
  /**
   * `context` is bound to the ciphertext as AES-GCM additional data (e.g. `stripe:<tenant>:live`): a
   * sealed value copied to another tenant's row, or to another field, no longer opens.
   */
  seal(plaintext: string, context?: string): string;
  /** Throws SecretBoxError when the value was sealed with another key or context, or was altered. */
  open(sealed: string, context?: string): string;
}

export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
}

const VERSION = 'v1';
// NIST SP 800-38D: a 96-bit random IV per message; the full 128-bit tag.
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** AES-256-GCM under the master key (HOOKFLOW_MASTER_KEY). */
export function createSecretBox(masterKey: MasterKey): SecretBox {
  const key = masterKey.bytes();
  return {
    seal(plaintext, context = '') {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [VERSION, iv, cipher.getAuthTag(), ciphertext]
        .map((part) => (typeof part === 'string' ? part : part.toString('base64')))
        .join(':');
    },
    open(sealed, context = '') {
      const [version, iv, tag, ciphertext, ...rest] = sealed.split(':');
      if (version !== VERSION || iv === undefined || tag === undefined || ciphertext === undefined || rest.length > 0) {
        throw new SecretBoxError(`Not a sealed secret of format ${VERSION}.`);
      }
      const ivBytes = Buffer.from(iv, 'base64');
      const tagBytes = Buffer.from(tag, 'base64');
      if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) {
        throw new SecretBoxError(`Not a sealed secret of format ${VERSION}.`);
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, ivBytes, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(tagBytes);
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]).toString('utf8');
      } catch {
        // GCM cannot tell a wrong key from tampering; both mean the stored value is unusable here.
        throw new SecretBoxError(
          'A sealed secret could not be decrypted: HOOKFLOW_MASTER_KEY differs from the key it was sealed with, or the stored value was altered.',
        );
      }
    },
  };
}
