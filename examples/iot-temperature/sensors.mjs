#!/usr/bin/env node
// Simulated temperature sensors: each publishes a reading every INTERVAL_MS to
// sensors/<id>/temperature (QoS 1), as {"sensor", "temperature", "seq", "at"}. Temperatures
// wander around 22 °C; now and then one sensor runs hot (above 30 °C) for a few readings.
// Stops after ROUNDS rounds.
//
//   MQTT_URL=mqtt://127.0.0.1:1883 SENSORS=5 INTERVAL_MS=1000 ROUNDS=20 node sensors.mjs
import mqtt from 'mqtt';

const url = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const sensors = Number(process.env.SENSORS ?? 5);
const intervalMs = Number(process.env.INTERVAL_MS ?? 1000);
const rounds = Number(process.env.ROUNDS ?? 20);

const client = await mqtt.connectAsync(url, { clientId: `iot-sensors-${process.pid}` });
const state = Array.from({ length: sensors }, (_, i) => ({ id: `sensor-${i + 1}`, temperature: 21 + i * 0.5, hotFor: 0, seq: 0 }));

for (let round = 1; round <= rounds; round++) {
  for (const sensor of state) {
    if (sensor.hotFor === 0 && Math.random() < 0.08) sensor.hotFor = 3;
    const target = sensor.hotFor > 0 ? 33 : 22;
    if (sensor.hotFor > 0) sensor.hotFor--;
    sensor.temperature = Math.round((sensor.temperature + (target - sensor.temperature) * 0.6 + (Math.random() - 0.5)) * 10) / 10;
    sensor.seq++;
    const reading = { sensor: sensor.id, temperature: sensor.temperature, seq: sensor.seq, at: new Date().toISOString() };
    await client.publishAsync(`sensors/${sensor.id}/temperature`, JSON.stringify(reading), { qos: 1 });
    console.log(`${reading.sensor} ${reading.temperature} °C${reading.temperature > 30 ? '  (hot)' : ''}`);
  }
  await new Promise((resolve) => setTimeout(resolve, intervalMs));
}
await client.endAsync();
