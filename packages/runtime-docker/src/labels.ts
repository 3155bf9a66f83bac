/** Labels Kindling puts on the containers and images it makes, so that it can find them again. */
export const Labels = {
  /** On every container: the invoker instance that started it (`removeOrphans` matches on it). */
  runner: 'dev.kindling.runner',
  /** On every container: the factory (one per invoker process) that started it. */
  session: 'dev.kindling.session',
  /** On images built by Kindling: the hash of their inputs, so that an unchanged image is not rebuilt. */
  fingerprint: 'dev.kindling.fingerprint',
} as const;
