import openwhisk from 'openwhisk';

type Client = ReturnType<typeof openwhisk>;

/** What a feed lifecycle call answers: the feed action's activation, as OpenWhisk's client returns it. */
export interface FeedActivation {
  activationId: string;
  response: { success: boolean; status: string; result: Record<string, unknown> };
}

interface FeedCall {
  name: string;
  trigger: string;
  namespace?: string;
  params?: Record<string, unknown>;
}

/**
 * The `openwhisk` npm client, typed as it behaves. Its bundled typings lag its runtime API:
 * `feeds.get` and `feeds.update` exist (READ and UPDATE lifecycle events) but are not declared,
 * and a feed call's `response` is always present. Tests use the real client through this view.
 */
export type OpenWhiskClient = Omit<Client, 'feeds'> & {
  feeds: {
    create(options: FeedCall): Promise<FeedActivation>;
    get(options: FeedCall): Promise<FeedActivation>;
    update(options: FeedCall): Promise<FeedActivation>;
    delete(options: FeedCall): Promise<FeedActivation>;
  };
};

export function openwhiskClient(apihost: string, apiKey: string): OpenWhiskClient {
  return openwhisk({ apihost, api_key: apiKey }) as unknown as OpenWhiskClient;
}
