import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Tests import workspace packages from their TypeScript sources, so a test run needs no build
// of the package under test (the build still runs first: spawned programs use dist/).
const moduleNameMapper = { '^(\\.{1,2}/.*)\\.js$': '$1' };
for (const group of ['packages', 'providers', 'examples']) {
  if (!existsSync(group)) continue;
  for (const dir of readdirSync(group)) {
    const pkgFile = join(group, dir, 'package.json');
    if (!existsSync(pkgFile) || !existsSync(join(group, dir, 'src', 'index.ts'))) continue;
    const { name } = JSON.parse(readFileSync(pkgFile, 'utf8'));
    moduleNameMapper[`^${name.replace('/', '\\/')}$`] = `<rootDir>/${group}/${dir}/src/index.ts`;
  }
}

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': '<rootDir>/test/jest/typescript-transformer.js',
  },
  moduleNameMapper,
  testMatch: ['**/?(*.)test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 30_000,
  maxWorkers: 2,
  setupFiles: ['<rootDir>/test/jest/setup-env.js'],
};
