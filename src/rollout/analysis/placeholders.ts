/**
 * `{{args.NAME}}` placeholders in one provider string, substituted by where the string is used:
 * - `url`: the value URL-encoded (encodeURIComponent), so it cannot add a path segment, a query
 *   parameter or change the host;
 * - `promql` and `jsonPath`: only inside a quoted string literal, and the value may hold no quote or
 *   backslash, so it cannot end the literal;
 * - `argv`: as is (no shell), but a value starting with `-` may not start an argument (no option injection);
 * - `text`: as is.
 * Every value is 1–256 characters without control characters or `{{` (so a substituted template
 * substitutes to itself again). Problems are thrown as
 * PlaceholderProblem for the caller to place (metric, field).
 */
export type PlaceholderContext = 'text' | 'url' | 'promql' | 'jsonPath' | 'argv';

export const MAX_ARG_VALUE = 256;
export const ARG_NAME_RE = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

export class PlaceholderProblem extends Error {
  constructor(
    message: string,
    readonly placeholder: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = 'PlaceholderProblem';
  }
}

const START = /\{\{\s*args\./g;
const FULL = /^\{\{args\.([A-Za-z][A-Za-z0-9_-]{0,62})\}\}/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const QUOTES = /["'`\\]/;

export interface ArgLookup {
  /** the value; undefined when the name is known but this rollout has no value for it */
  value(name: string): string | undefined;
  known(name: string): boolean;
  /** for messages: the names a template may use */
  names(): string[];
}

/** Offsets of `text` that are inside a "…", '…' or `…` literal (backslash escapes inside "…" and '…'). */
function quotedOffsets(text: string): Set<number> {
  const inside = new Set<number>();
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote === undefined) {
      if (c === '"' || c === "'" || c === '`') quote = c;
    } else if (c === '\\' && quote !== '`') {
      i++;
    } else if (c === quote) {
      quote = undefined;
    } else {
      inside.add(i);
    }
  }
  return inside;
}

/** Whether `text` holds any `{{args.` (well-formed or not). */
export const hasPlaceholder = (text: string): boolean => /\{\{\s*args\./.test(text);

function checkedValue(name: string, placeholder: string, args: ArgLookup): string {
  if (!args.known(name)) throw new PlaceholderProblem(`unknown placeholder ${placeholder}`, placeholder, `the arguments are: ${args.names().join(', ')} (see docs/analysis.md)`);
  const value = args.value(name);
  if (value === undefined)
    throw new PlaceholderProblem(
      `${placeholder} has no value for this rollout${name === 'stable' ? ' (there is no stable version yet, e.g. on the first rollout)' : ''}`,
      placeholder,
      'supply the argument, or use a template that does not need it',
    );
  if (value.length < 1 || value.length > MAX_ARG_VALUE || CONTROL.test(value) || value.includes('{{'))
    throw new PlaceholderProblem(
      `the value of ${placeholder} must be 1-${MAX_ARG_VALUE} characters without control characters or "{{"`,
      placeholder,
      `pass a shorter ${name} without line breaks, control characters or "{{"`,
    );
  return value;
}

/** Substitute every placeholder of `text` for its context; throws PlaceholderProblem. */
export function substitutePlaceholders(text: string, context: PlaceholderContext, args: ArgLookup): string {
  if (!hasPlaceholder(text)) return text;
  const quoted = context === 'promql' || context === 'jsonPath' ? quotedOffsets(text) : undefined;
  let out = '';
  let last = 0;
  for (const m of text.matchAll(START)) {
    const at = m.index;
    if (at < last) continue;
    const full = FULL.exec(text.slice(at, at + 80));
    if (!full) {
      const shown = text.slice(at, at + 40);
      throw new PlaceholderProblem(`malformed placeholder ${JSON.stringify(shown)}`, shown, 'write {{args.NAME}} exactly, without spaces, e.g. {{args.canary}}');
    }
    const [placeholder, name] = full as unknown as [string, string];
    const value = checkedValue(name, placeholder, args);
    out += text.slice(last, at) + encodeFor(context, value, placeholder, quoted?.has(at) ?? false, at === 0);
    last = at + placeholder.length;
  }
  return out + text.slice(last);
}

function encodeFor(context: PlaceholderContext, value: string, placeholder: string, inQuotes: boolean, atStart: boolean): string {
  if (context === 'url') return encodeURIComponent(value);
  if (context === 'promql' || context === 'jsonPath') {
    const lang = context === 'promql' ? 'PromQL' : 'JSON path';
    const example = context === 'promql' ? 'version="{{args.canary}}"' : "$.versions['{{args.canary}}']";
    if (!inQuotes) throw new PlaceholderProblem(`${placeholder} is outside a quoted string: in a ${lang}, arguments are substituted only inside quotes`, placeholder, `quote it, e.g. ${example}`);
    if (QUOTES.test(value))
      throw new PlaceholderProblem(`the value of ${placeholder} holds a quote or a backslash, which could end the ${lang} string`, placeholder, `pass a value without ", ', \` or \\`);
    return value;
  }
  if (context === 'argv' && atStart && value.startsWith('-'))
    throw new PlaceholderProblem(`the value of ${placeholder} starts with "-" and would be read as an option`, placeholder, 'put the placeholder after a fixed prefix, e.g. --version={{args.canary}}');
  return value;
}
