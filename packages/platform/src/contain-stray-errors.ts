import { messageOf, type Logger } from '@kindling/core';

/**
 * Keeps one provider's stray error from ending the whole platform: a rejection nobody handled,
 * or an exception thrown from a callback outside any feed's error boundary, is logged with its
 * stack and the process goes on. Returns a function that removes the handlers.
 */
export function containStrayErrors(log: Logger): () => void {
  const onRejection = (reason: unknown) => {
    log.error({ err: messageOf(reason), stack: reason instanceof Error ? reason.stack : undefined }, 'unhandled promise rejection (contained)');
  };
  const onException = (error: Error) => {
    log.error({ err: error.message, stack: error.stack }, 'uncaught exception (contained)');
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
