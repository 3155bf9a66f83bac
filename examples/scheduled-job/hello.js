// A Kindling (and OpenWhisk) action: `main` gets the merged parameters and returns a JSON
// object. The alarm feed's payload and the trigger's parameters arrive as params.
function main(params) {
  const firedAt = new Date().toISOString();
  console.log(`tick ${params.note ?? ''} at ${firedAt}`);
  return { greeting: `Hello from a scheduled job, ${params.name ?? 'world'}!`, firedAt };
}
