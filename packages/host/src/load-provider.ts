import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KindlingError, messageOf } from '@kindling/core';
import { assertProvider, type ProviderDefinition } from '@kindling/sdk';

/**
 * Loads a provider from an npm package name (resolved from `fromDir`, the user's project), or a
 * path to a module file or a package folder. The package's default export, or its named export
 * `provider`, must be a provider definition for an SDK version this platform supports.
 */
export async function loadProviderPackage(specifier: string, fromDir = process.cwd()): Promise<ProviderDefinition> {
  const isPath = specifier.startsWith('.') || isAbsolute(specifier);
  let url: string;
  try {
    const resolved = isPath ? packageEntry(resolve(fromDir, specifier)) : resolveFrom(specifier, fromDir);
    url = pathToFileURL(resolved).href;
  } catch (error) {
    if (error instanceof KindlingError) throw error;
    throw new KindlingError(
      'KND_PROVIDER_LOAD',
      `provider package '${specifier}' is not installed (looked from ${fromDir}); install it with: npm install ${specifier}`,
      { cause: error },
    );
  }
  let module: Record<string, unknown>;
  try {
    module = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new KindlingError('KND_PROVIDER_LOAD', `provider package '${specifier}' failed to load: ${messageOf(error)}`, { cause: error });
  }
  const candidate = module.provider ?? module.default;
  return assertProvider(candidate, `package '${specifier}'`);
}

/**
 * A path names a module file, or a package folder (`--provider ./my-provider`): then its
 * package.json says where the entry is, which must be built.
 */
function packageEntry(path: string): string {
  if (!existsSync(path)) throw new KindlingError('KND_PROVIDER_LOAD', `provider path '${path}' does not exist`);
  if (!statSync(path).isDirectory()) return path;
  const manifest = join(path, 'package.json');
  if (!existsSync(manifest)) {
    throw new KindlingError('KND_PROVIDER_LOAD', `provider folder '${path}' has no package.json: give the path of its built entry file instead`);
  }
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: unknown; module?: string; main?: string };
  const entry = join(path, exportEntry(pkg.exports) ?? pkg.module ?? pkg.main ?? 'index.js');
  if (!existsSync(entry)) {
    throw new KindlingError('KND_PROVIDER_LOAD', `provider package at '${path}' is not built: its entry ${entry} does not exist (run its build, e.g. npx tsc -b ${path})`);
  }
  return entry;
}

function resolveFrom(specifier: string, fromDir: string): string {
  const require = createRequire(join(fromDir, 'noop.js'));
  try {
    return require.resolve(specifier);
  } catch (error) {
    // ESM-only packages export no `require` condition: find the package folder and read its entry.
    const manifest = require.resolve(`${specifier}/package.json`);
    const pkg = require(manifest) as { exports?: unknown; module?: string; main?: string };
    const entry = exportEntry(pkg.exports) ?? pkg.module ?? pkg.main;
    if (!entry) throw error;
    return join(manifest, '..', entry);
  }
}

function exportEntry(exports: unknown): string | undefined {
  if (typeof exports === 'string') return exports;
  if (!exports || typeof exports !== 'object') return undefined;
  const map = exports as Record<string, unknown>;
  const root = map['.'] ?? map;
  if (typeof root === 'string') return root;
  if (root && typeof root === 'object') {
    const conditions = root as Record<string, unknown>;
    for (const key of ['import', 'node', 'default']) {
      const value = conditions[key];
      if (typeof value === 'string') return value;
      if (value && typeof value === 'object') {
        const nested = exportEntry({ '.': value });
        if (nested) return nested;
      }
    }
  }
  return undefined;
}
