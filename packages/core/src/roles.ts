/** The four roles of a deployment; `kindling up` runs them all in one process. */
export const ROLES = ['api', 'providers', 'rules', 'invoker'] as const;
export type Role = (typeof ROLES)[number];
