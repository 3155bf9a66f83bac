// An MQTT.js publisher in a process of its own (so that it shares neither an event loop nor the
// resident memory of the process under test). Started by `publishFromChild`; sends JSON readings
// of about `payloadBytes`, each stamped with its publish time `t` (epoch ms), on `topics` topics
// `bench/<n>/reading`, QoS `qos`, either as fast as `maxInFlight` allows (`count` messages) or at
// a steady `rate` per second for `seconds`. Stops after `maxSeconds` whatever happens.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);

/** Runs a publisher child process; resolves with `{ sent, seconds }` once every publish is acked. */
export function publishFromChild(options) {
  return new Promise((resolve, reject) => {
    const child = fork(here, ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let answered = false;
    child.once('message', (message) => {
      answered = true;
      if (message.error) reject(new Error(message.error));
      else resolve(message);
    });
    child.once('error', reject);
    // 'close' comes after the IPC channel has delivered everything ('exit' may come before).
    child.once('close', (code) => {
      if (!answered) reject(new Error(`the publisher exited with ${code} and no result`));
    });
    child.send(options);
  });
}

async function runChild(options) {
  const { default: mqtt } = await import('mqtt');
  const { url, qos = 1, count = 0, rate = 0, seconds = 0, maxInFlight = 200, topics = 1000, payloadBytes = 200, maxSeconds = 60 } = options;
  const client = await mqtt.connectAsync(url, { clientId: `bench-pub-${process.pid}`, reconnectPeriod: 0 });
  const pad = 'x'.repeat(payloadBytes);
  const payload = (seq) => {
    const head = `{"sensor":"s-${seq % topics}","seq":${seq},"t":${Date.now()},"temperature":${15 + (seq % 200) / 10},"pad":"`;
    return head + pad.slice(0, Math.max(0, payloadBytes - head.length - 2)) + '"}';
  };
  const started = Date.now();
  const deadline = started + maxSeconds * 1000;
  let sent = 0;
  let inFlight = 0;
  let wake;
  const publishOne = (seq) => {
    inFlight++;
    client.publish(`bench/${seq % topics}/reading`, payload(seq), { qos }, () => {
      inFlight--;
      const w = wake;
      wake = undefined;
      w?.();
    });
  };
  if (rate > 0) {
    // Steady: a slice every 5 ms, never more than `maxInFlight` unacked.
    const total = Math.round(rate * seconds);
    let owed = 0;
    await new Promise((resolve) => {
      const timer = setInterval(() => {
        owed += rate / 200;
        while (owed >= 1 && sent < total && inFlight < maxInFlight) {
          owed--;
          publishOne(sent++);
        }
        if (sent >= total || Date.now() > deadline) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
  } else {
    while (sent < count && Date.now() < deadline) {
      if (inFlight >= maxInFlight) await new Promise((resolve) => (wake = resolve));
      publishOne(sent++);
    }
  }
  while (inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => (wake = resolve));
  await client.endAsync();
  return { sent, seconds: (Date.now() - started) / 1000 };
}

if (process.argv[2] === '--child') {
  process.once('message', (options) => {
    runChild(options).then(
      (result) => process.send(result, () => process.exit(0)),
      (error) => process.send({ error: error.message }, () => process.exit(1)),
    );
  });
}
