/* global exports */
// A Kindling (and OpenWhisk) action, run by the rule `too-hot` for each reading above the
// threshold. An mqtt/subscription event's data arrives as the parameters: `topic` and the
// decoded `payload`; the action's default parameter `threshold` comes with them.
function main(params) {
  const { sensor, temperature, seq } = params.payload;
  const message = `ALERT ${sensor}: ${temperature} °C is above ${params.threshold} °C (reading ${seq} on ${params.topic})`;
  console.log(message);
  return { alert: message, sensor, temperature };
}

exports.main = main;
