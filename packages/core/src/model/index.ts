export * from './common.js';
export * from './action.js';
export * from './trigger.js';
export * from './rule.js';
export * from './feed.js';
export * from './activation.js';
