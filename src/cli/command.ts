/** The shape of one CLI command. main.ts dispatches to these and maps errors to exit codes. */
export interface CliContext {
  /** write a line (or more) to standard output */
  out(text: string): void;
  /** write a line (or more) to standard error */
  err(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

export interface Command {
  /** the words that select it, e.g. `release create` */
  name: string;
  summary: string;
  /** usage text printed by --help and on usage errors */
  usage: string;
  /** returns the exit code; throw DomainError for failures (main maps code -> exit code) */
  run(args: string[], ctx: CliContext): Promise<number>;
}

/** Exit codes: stable, documented in docs/cli.md */
export const exitCodes = {
  ok: 0,
  /** the check ran and said no: verification failed, gate failed, promotion failed */
  failed: 1,
  /** bad usage or invalid input */
  usage: 2,
  not_found: 3,
  unauthenticated: 4,
  forbidden: 5,
  conflict: 6,
  /** cannot reach the server */
  unavailable: 7,
  internal: 70,
} as const;
