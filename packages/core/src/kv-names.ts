import { KindlingError } from './errors.js';

const KEY = /^[-_=A-Za-z0-9]+(?:\.[-_=A-Za-z0-9]+)*$/;
const BUCKET = /^[-_A-Za-z0-9]+$/;

/** Keys as core's `KeyValueStore` defines them, so that both backends accept the same keys. */
export function assertKey(key: string): void {
  if (!KEY.test(key)) {
    throw new KindlingError('KND_VALIDATION', `'key' ${JSON.stringify(key)} must be [-_=A-Za-z0-9] tokens separated by single dots; encode names with encodeToken.`, { field: 'key' });
  }
}

export function assertBucketName(name: string): void {
  if (!BUCKET.test(name)) {
    throw new KindlingError('KND_VALIDATION', `'bucket' ${JSON.stringify(name)} must contain only letters, digits, _ and -.`, { field: 'bucket' });
  }
}
