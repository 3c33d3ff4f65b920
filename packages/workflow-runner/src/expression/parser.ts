import type { WfValue } from '../values';
import { ExpressionSyntaxError, type Token, tokenize } from './lexer';

export type BinaryOp =
  | 'or'
  | 'and'
  | '=='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | 'in'
  | '+'
  | '-'
  | '*'
  | '/'
  | '//'
  | '%';

export type Expr =
  | { type: 'literal'; value: WfValue }
  | { type: 'ident'; name: string }
  | { type: 'member'; object: Expr; name: string }
  | { type: 'index'; object: Expr; index: Expr }
  | { type: 'call'; callee: Expr; args: Expr[] }
  | { type: 'unary'; op: '-' | 'not'; operand: Expr }
  | { type: 'binary'; op: BinaryOp; left: Expr; right: Expr }
  | { type: 'list'; items: Expr[] }
  | { type: 'map'; entries: Array<{ key: Expr; value: Expr }> };

// Keywords are lower- or upper-case, never mixed (wf:reference/syntax/datatypes); booleans also allow Title case.
const KEYWORDS: Record<string, string> = {
  and: 'and',
  AND: 'and',
  or: 'or',
  OR: 'or',
  not: 'not',
  NOT: 'not',
  in: 'in',
  IN: 'in',
  true: 'true',
  True: 'true',
  TRUE: 'true',
  false: 'false',
  False: 'false',
  FALSE: 'false',
  null: 'null',
  NULL: 'null',
};

const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>=']);

/** Parses the text between `${` and `}`. Precedence follows wf:reference/syntax/datatypes. */
export function parseExpression(source: string): Expr {
  const tokens = tokenize(source);
  let index = 0;

  const peek = (): Token => tokens[index]!;
  const keywordOf = (token: Token): string | undefined =>
    token.kind === 'ident' ? KEYWORDS[token.value] : undefined;
  const isOp = (value: string): boolean => peek().kind === 'op' && peek().value === value;
  const fail = (message: string): never => {
    throw new ExpressionSyntaxError(`${message} at position ${peek().pos} in '${source}'`);
  };
  const expectOp = (value: string) => {
    if (!isOp(value)) fail(`expected '${value}'`);
    index++;
  };

  const parseOr = (): Expr => {
    let left = parseAnd();
    while (keywordOf(peek()) === 'or') {
      index++;
      left = { type: 'binary', op: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): Expr => {
    let left = parseComparison();
    while (keywordOf(peek()) === 'and') {
      index++;
      left = { type: 'binary', op: 'and', left, right: parseComparison() };
    }
    return left;
  };
  const parseComparison = (): Expr => {
    let left = parseAdditive();
    for (;;) {
      const token = peek();
      if (token.kind === 'op' && COMPARISONS.has(token.value)) {
        index++;
        left = { type: 'binary', op: token.value as BinaryOp, left, right: parseAdditive() };
      } else if (keywordOf(token) === 'in') {
        index++;
        left = { type: 'binary', op: 'in', left, right: parseAdditive() };
      } else return left;
    }
  };
  const parseAdditive = (): Expr => {
    let left = parseMultiplicative();
    while (isOp('+') || isOp('-')) {
      const op = peek().value as BinaryOp;
      index++;
      left = { type: 'binary', op, left, right: parseMultiplicative() };
    }
    return left;
  };
  const parseMultiplicative = (): Expr => {
    let left = parseUnary();
    while (isOp('*') || isOp('/') || isOp('//') || isOp('%')) {
      const op = peek().value as BinaryOp;
      index++;
      left = { type: 'binary', op, left, right: parseUnary() };
    }
    return left;
  };
  const parseUnary = (): Expr => {
    if (keywordOf(peek()) === 'not') {
      index++;
      return { type: 'unary', op: 'not', operand: parseUnary() };
    }
    if (isOp('-')) {
      index++;
      return { type: 'unary', op: '-', operand: parseUnary() };
    }
    return parsePostfix();
  };
  const parsePostfix = (): Expr => {
    let expr = parsePrimary();
    for (;;) {
      if (isOp('.')) {
        index++;
        const name = peek();
        if (name.kind !== 'ident') fail('expected a name after "."');
        index++;
        expr = { type: 'member', object: expr, name: name.value as string };
      } else if (isOp('[')) {
        index++;
        const key = parseOr();
        expectOp(']');
        expr = { type: 'index', object: expr, index: key };
      } else if (isOp('(')) {
        index++;
        expr = { type: 'call', callee: expr, args: parseList(')') };
      } else return expr;
    }
  };
  const parseList = (close: string): Expr[] => {
    const items: Expr[] = [];
    if (isOp(close)) {
      index++;
      return items;
    }
    for (;;) {
      items.push(parseOr());
      if (isOp(',')) index++;
      else {
        expectOp(close);
        return items;
      }
    }
  };
  const parsePrimary = (): Expr => {
    const token = peek();
    index++;
    switch (token.kind) {
      case 'int':
      case 'double':
      case 'string':
        return { type: 'literal', value: token.value };
      case 'ident': {
        const keyword = KEYWORDS[token.value];
        if (keyword === 'true' || keyword === 'false') return { type: 'literal', value: keyword === 'true' };
        if (keyword === 'null') return { type: 'literal', value: null };
        if (keyword !== undefined && keyword !== 'not') {
          index--;
          return fail(`unexpected keyword '${token.value}'`);
        }
        if (keyword === 'not') {
          index--;
          return parseUnary();
        }
        return { type: 'ident', name: token.value };
      }
      case 'op':
        if (token.value === '(') {
          const inner = parseOr();
          expectOp(')');
          return inner;
        }
        if (token.value === '[') return { type: 'list', items: parseList(']') };
        if (token.value === '{') return parseMapLiteral();
        break;
      case 'eof':
        index--;
        return fail('unexpected end of expression');
    }
    index--;
    return fail(`unexpected '${token.value}'`);
  };
  const parseMapLiteral = (): Expr => {
    const entries: Array<{ key: Expr; value: Expr }> = [];
    if (isOp('}')) {
      index++;
      return { type: 'map', entries };
    }
    for (;;) {
      const key = parseOr();
      expectOp(':');
      entries.push({ key, value: parseOr() });
      if (isOp(',')) index++;
      else {
        expectOp('}');
        return { type: 'map', entries };
      }
    }
  };

  const expr = parseOr();
  if (peek().kind !== 'eof') fail(`unexpected '${peek().value}'`);
  return expr;
}

/** `a.b.c` as a dotted name when the expression is a chain of plain names, else undefined. */
export function dottedName(expr: Expr): string | undefined {
  if (expr.type === 'ident') return expr.name;
  if (expr.type === 'member') {
    const base = dottedName(expr.object);
    return base === undefined ? undefined : `${base}.${expr.name}`;
  }
  return undefined;
}

/** Visits every sub-expression, parents first. */
export function walkExpression(expr: Expr, visit: (node: Expr) => boolean | undefined): void {
  if (visit(expr) === false) return;
  switch (expr.type) {
    case 'member':
      walkExpression(expr.object, visit);
      break;
    case 'index':
      walkExpression(expr.object, visit);
      walkExpression(expr.index, visit);
      break;
    case 'call':
      walkExpression(expr.callee, visit);
      for (const arg of expr.args) walkExpression(arg, visit);
      break;
    case 'unary':
      walkExpression(expr.operand, visit);
      break;
    case 'binary':
      walkExpression(expr.left, visit);
      walkExpression(expr.right, visit);
      break;
    case 'list':
      for (const item of expr.items) walkExpression(item, visit);
      break;
    case 'map':
      for (const entry of expr.entries) {
        walkExpression(entry.key, visit);
        walkExpression(entry.value, visit);
      }
      break;
    default:
      break;
  }
}
