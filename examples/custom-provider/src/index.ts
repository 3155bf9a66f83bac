import { jsonFeedProvider } from './jsonfeed-provider.js';

export { jsonFeedProvider, jsonFeedParams, type JsonFeedParams } from './jsonfeed-provider.js';

// The platform loads a provider package's default export (or its named export `provider`).
export default jsonFeedProvider;
