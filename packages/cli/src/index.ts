export { runCli, buildProgram } from './cli.js';
export { createRuntime, type CliRuntime, type GlobalOptions } from './runtime.js';
export { ExitCode, UsageError, exitCodeFor } from './exit-codes.js';
export { ApiClient, ApiError, entityPath, qualifiedName, type ApiTarget, type ApiResponse } from './api-client.js';
export {
  configFilePath,
  readConfigFile,
  writeConfigFile,
  resolveClientConfig,
  pickClientConfig,
  DEFAULT_APIHOST,
  type ConfigFile,
} from './config.js';
export { parseParamValue, foldParamPairs, gatherParams } from './params.js';
export { Output, renderTable, renderRecord, formatTime, formatDuration, type Io, type Column } from './output.js';
export { watchShutdownSignals, type ShutdownWatch } from './shutdown-signals.js';
