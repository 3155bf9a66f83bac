/**
 * The texts OpenWhisk's invoker puts in activation records, so that clients and users who
 * match on them see the same words here.
 */
export const Messages = {
  abnormalInit: 'The action did not initialize and exited unexpectedly.',
  abnormalRun: 'The action did not produce a valid response and exited unexpectedly.',
  memoryExhausted: 'The action exhausted its memory and was aborted.',
  logFailure: 'There was an issue while collecting your logs. Data might be missing.',
  logWarningDeveloperError: 'The action did not initialize or run as expected. Log data might be missing.',
  truncatedLogs(limitBytes: number): string {
    return `Logs were truncated because the total bytes size exceeds the limit of ${limitBytes} bytes.`;
  },
  timedOut(timeoutMs: number, duringInit: boolean): string {
    return `The action exceeded its time limits of ${timeoutMs} milliseconds${duringInit ? ' during initialization.' : '.'}`;
  },
  invalidInitResponse(body: string): string {
    return `The action failed during initialization${body ? `: ${body}` : ''}`;
  },
  invalidRunResponse(body: string): string {
    return `The action did not produce a valid JSON or JSON Array response${body ? `: ${body}` : ''}`;
  },
  truncatedResponse(length: number, maxLength: number, trunk: string): string {
    return `The action produced a response that exceeded the allowed length: ${length} > ${maxLength} bytes. The truncated response was: ${trunk}`;
  },
  actionNotFound(path: string): string {
    return `Action ${path} could not be found or may have been deleted.`;
  },
  sequenceComponentNotFound(path: string): string {
    return `Sequence component ${path} does not exist.`;
  },
  sequenceTooLong: 'Too many actions in the sequence.',
} as const;

/** Printed by the action proxy on stdout and stderr after each run and each failed init. */
export const LOG_SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';
