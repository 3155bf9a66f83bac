#!/usr/bin/env node
// npm links a package's bin at install time, before anything is built, and skips a bin whose
// file is missing: so the linked bin is this committed file, and the CLI itself is dist/bin.js.
try {
  await import('../dist/bin.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('cli/dist/bin.js')) {
    process.stderr.write('kindling is not built yet: run `npm run build` in the repository first\n');
    process.exitCode = 1;
  } else {
    throw error;
  }
}
