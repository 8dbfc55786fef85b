import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * Every error code must be written out in a declared code object (`export const XErrorCode = { ... } as const`,
 * as TokenErrorCode in @mcx/auth), so that a search for a code finds its definition. The type checker
 * proves it: the code argument of every coded constructor below, in every scanned directory, must have
 * a type made only of string literals that are values of such objects. A literal nobody declared, a
 * template such as `NODE_TOKEN_${reason}`, or a helper taking `code: string` all fail.
 */
const SCANNED_DIRS = [
  'packages/errors/src',
  'packages/auth/src',
  'packages/signing/src',
  'packages/db/src',
  'packages/linkage/src',
  'packages/audit/src',
  'packages/logger/src',
  'packages/telemetry/src',
  'packages/cli/src',
  'packages/federation/src',
  'services/linkage/src',
  'services/node/src',
];

/** Constructors that take a code, and the position of the code among their arguments. */
// The node's named GraphQL errors (BadUserInputError...) take their code from GraphQLErrorCode by construction.
const CODED_CONSTRUCTORS: Readonly<Record<string, number>> = { McxError: 0, HttpError: 1 };

/** A GraphQL error built by hand names its code in `extensions.code` of its second argument. */
const GRAPHQL_ERROR = 'GraphQLError';

/** A declared code object: a const object literal whose name ends in ErrorCode (or, for the peer protocol's reasons, Reason or Refusal). */
const DECLARED_OBJECT_NAME = /(ErrorCode|Reason|Refusal)$/;

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
/** A file the scan does not read from disk, proving that it reports what it should. */
const PROBE = join(ROOT, 'packages/errors/src/declared-codes-probe.ts');
const PROBE_TEXT = `
import { McxError } from './index.js';
const ProbeErrorCode = { PROBE_DECLARED: 'PROBE_DECLARED' } as const;
type ProbeErrorCode = (typeof ProbeErrorCode)[keyof typeof ProbeErrorCode];
const reason: string = 'BROKEN';
const fail = (code: ProbeErrorCode | 'PROBE_HALF_DECLARED') => new McxError(code, 'half declared');
export const probes = [
  new McxError(ProbeErrorCode.PROBE_DECLARED, 'declared'),
  new McxError('PROBE_DECLARED', 'declared, written as a literal'),
  new McxError('SOME_NEW_CODE', 'never declared'),
  new McxError(\`PROBE_\${reason}\`, 'built from a template'),
  fail,
];
class GraphQLError { constructor(message: string, options: object) { void message; void options; } }
export const graphqlProbes = [
  new GraphQLError('declared', { extensions: { code: ProbeErrorCode.PROBE_DECLARED } }),
  new GraphQLError('never declared', { extensions: { code: 'PROBE_GRAPHQL_CODE' } }),
  new GraphQLError('no code: graphql-js decides', {}),
];
`;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath, e.name))
    .filter((path) => !path.includes('__generated__'));
}

function createProgram(rootNames: string[]): ts.Program {
  const base = ts.readConfigFile(join(ROOT, 'tsconfig.base.json'), (path) => ts.sys.readFile(path));
  const { options } = ts.convertCompilerOptionsFromJson(base.config.compilerOptions, ROOT);
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists } = host;
  host.fileExists = (path) => path === PROBE || fileExists.call(host, path);
  host.getSourceFile = (path, language, ...rest) =>
    path === PROBE ? ts.createSourceFile(path, PROBE_TEXT, language) : getSourceFile.call(host, path, language, ...rest);
  return ts.createProgram({ rootNames: [...rootNames, PROBE], options: { ...options, noEmit: true }, host });
}

function isRepoSource(file: ts.SourceFile): boolean {
  return !file.isDeclarationFile && !file.fileName.includes('/node_modules/');
}

/** The values of every declared code object in the repository's sources that the program reaches. */
function declaredCodes(program: ts.Program): Set<string> {
  const codes = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && DECLARED_OBJECT_NAME.test(node.name.text)) {
      const init = node.initializer;
      if (init && ts.isAsExpression(init) && ts.isObjectLiteralExpression(init.expression)) {
        for (const property of init.expression.properties) {
          if (ts.isPropertyAssignment(property) && ts.isStringLiteral(property.initializer)) codes.add(property.initializer.text);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  for (const file of program.getSourceFiles()) if (isRepoSource(file)) visit(file);
  return codes;
}

/** The string literals a type is made of, or null when it admits any other string. */
function literalMembers(type: ts.Type): string[] | null {
  const members = type.isUnion() ? type.types : [type];
  return members.every((t) => t.isStringLiteral()) ? members.map((t) => (t as ts.StringLiteralType).value) : null;
}

function propertyValue(object: ts.ObjectLiteralExpression, name: string): ts.Expression | undefined {
  const found = object.properties.find((p) => ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === name);
  return found && ts.isPropertyAssignment(found) ? found.initializer : undefined;
}

/**
 * The code a coded constructor is given (undefined when it is given none), or null when the
 * expression is not one. A GraphQLError is coded when it names an `extensions.code`; one without
 * keeps graphql-js's own handling.
 */
function codeArgument(node: ts.NewExpression): ts.Expression | undefined | null {
  if (!ts.isIdentifier(node.expression)) return null;
  const name = node.expression.text;
  if (Object.hasOwn(CODED_CONSTRUCTORS, name)) return node.arguments?.[CODED_CONSTRUCTORS[name]!];
  if (name !== GRAPHQL_ERROR) return null;
  const options = node.arguments?.[1];
  const extensions = options && ts.isObjectLiteralExpression(options) ? propertyValue(options, 'extensions') : undefined;
  return (extensions && ts.isObjectLiteralExpression(extensions) ? propertyValue(extensions, 'code') : undefined) ?? null;
}

/** How many coded constructors were checked, and `file:line: new Name(arg): why` for each whose code is not declared. */
function checkCodes(program: ts.Program, files: readonly string[], declared: ReadonlySet<string>): { checked: number; problems: string[] } {
  const checker = program.getTypeChecker();
  const problems: string[] = [];
  let checked = 0;
  for (const fileName of files) {
    const file = program.getSourceFile(fileName);
    if (file === undefined) throw new Error(`${fileName} is not in the program`);
    const visit = (node: ts.Node): void => {
      const arg = ts.isNewExpression(node) ? codeArgument(node) : null;
      if (ts.isNewExpression(node) && arg !== null) {
        checked += 1;
        const { line } = file.getLineAndCharacterOfPosition(node.getStart(file));
        const at = `${relative(ROOT, fileName)}:${line + 1}: new ${node.expression.getText(file)}(${arg?.getText(file) ?? ''})`;
        if (arg === undefined) {
          problems.push(`${at}: no code`);
        } else {
          const type = checker.getTypeAtLocation(arg);
          const literals = literalMembers(type);
          if (literals === null) problems.push(`${at}: the code's type ${checker.typeToString(type)} is not a declared code union`);
          else
            for (const code of literals.filter((c) => !declared.has(c)))
              problems.push(`${at}: ${code} is not in a declared ErrorCode object`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return { checked, problems };
}

describe('declared error codes', () => {
  const files = SCANNED_DIRS.flatMap(sourceFiles);
  let program: ts.Program;
  let declared: Set<string>;

  beforeAll(() => {
    program = createProgram(files);
    declared = declaredCodes(program);
  }, 120_000);

  it('finds the code objects it checks against', () => {
    for (const code of ['TOKEN_MALFORMED', 'NODE_TOKEN_EXPIRED', 'LINKAGE_UNAVAILABLE', 'CHECKPOINT_BAD_SIGNATURE', 'FORBIDDEN']) {
      expect(declared).toContain(code);
    }
  });

  it('reports an undeclared literal, a template and a helper whose code type admits an undeclared literal', () => {
    expect(checkCodes(program, [PROBE], declared).problems).toEqual([
      `packages/errors/src/declared-codes-probe.ts:6: new McxError(code): PROBE_HALF_DECLARED is not in a declared ErrorCode object`,
      `packages/errors/src/declared-codes-probe.ts:10: new McxError('SOME_NEW_CODE'): SOME_NEW_CODE is not in a declared ErrorCode object`,
      "packages/errors/src/declared-codes-probe.ts:11: new McxError(`PROBE_${reason}`): the code's type `PROBE_${string}` is not a declared code union",
      `packages/errors/src/declared-codes-probe.ts:17: new GraphQLError('PROBE_GRAPHQL_CODE'): PROBE_GRAPHQL_CODE is not in a declared ErrorCode object`,
    ]);
  }, 60_000);

  it('every coded error thrown in the scanned directories carries a declared code', () => {
    const { checked, problems } = checkCodes(program, files, declared);
    expect(checked).toBeGreaterThan(80);
    expect(problems).toEqual([]);
  }, 60_000);
});
