// Jest transformer: TypeScript to ES modules with the project's own compiler, file by file
// (`isolatedModules` holds, so no type information is needed). Type checking is `tsc -b`'s job.
import { createHash } from 'node:crypto';
import ts from 'typescript';

const compilerOptions = {
  module: ts.ModuleKind.ESNext,
  target: ts.ScriptTarget.ES2022,
  verbatimModuleSyntax: true,
  sourceMap: true,
  inlineSources: true,
};

export default {
  process(sourceText, sourcePath) {
    const { outputText, sourceMapText } = ts.transpileModule(sourceText, { compilerOptions, fileName: sourcePath });
    return { code: outputText.replace(/\/\/# sourceMappingURL=.*$/m, ''), map: sourceMapText };
  },
  getCacheKey(sourceText, sourcePath) {
    return createHash('sha256').update(`${ts.version}\0${sourcePath}\0${sourceText}`).digest('hex');
  },
};
