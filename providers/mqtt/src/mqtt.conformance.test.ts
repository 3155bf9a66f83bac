import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { randomId } from '@kindling/sdk';
import { describeProviderConformance } from '@kindling/provider-testkit';
import mqtt, { type MqttClient } from 'mqtt';
import { mosquittoInstalled, startOwnMosquitto, type OwnMosquitto } from '../../../test/mqtt/support/mosquitto.js';
import { mqttProvider } from './mqtt-provider.js';

/**
 * The MQTT provider against the conformance kit, on a Mosquitto of the test's own (a random
 * loopback port, a password, persistent sessions). An event is a QoS 1 message on the feed's
 * topic whose `id` field is the kit's token; a redelivery is the same message published again,
 * which `idField` turns into the same event id.
 */
const USER = 'kit';
const PASSWORD = `kit-pw-${randomId(6)}`;
const TOPIC = `kindling-kit/${randomId(4)}`;

const describeMosquitto = mosquittoInstalled() ? describe : missingMosquitto();

function missingMosquitto(): typeof describe {
  if (process.env.CI === 'true') throw new Error('Mosquitto is not installed (/usr/sbin/mosquitto); CI must run these tests');
  console.warn('\n\n*** SKIPPING the MQTT conformance test: Mosquitto is not installed ***\n');
  return describe.skip as unknown as typeof describe;
}

describeMosquitto('mqtt provider', () => {
  let broker: OwnMosquitto;
  let publisher: MqttClient;

  beforeAll(async () => {
    broker = await startOwnMosquitto({ users: { [USER]: PASSWORD } });
    publisher = await mqtt.connectAsync(broker.url, { username: USER, password: PASSWORD, clientId: `kit-publisher-${randomId(4)}` });
  });

  afterAll(async () => {
    await publisher?.endAsync();
    await broker?.cleanup();
  });

  const publish = async (token: string) => {
    await publisher.publishAsync(`${TOPIC}/reading`, JSON.stringify({ id: token, celsius: 21.5 }), { qos: 1 });
  };

  describeProviderConformance(
    {
      provider: mqttProvider,
      kind: 'subscription',
      params: () => ({ url: broker.url, topic: `${TOPIC}/#`, qos: 1, idField: 'id', username: USER, password: PASSWORD, clientId: `kit-${randomId(4)}` }),
      source: {
        emit: ({ token }) => publish(token),
        redeliver: (token) => publish(token),
      },
    },
    { describe, it, beforeAll },
  );
});
