/** A mistake in how the command was called: answered with the usage text. */
export class UsageError extends Error {}

export function expectOne(args: readonly string[], usage: string): string {
  const [only, ...extra] = args;
  if (only === undefined) throw new UsageError(`missing argument: ${usage}`);
  if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}": ${usage}`);
  return only;
}

export function expectArgs(args: readonly string[], count: number, usage: string): string[] {
  if (args.length < count) throw new UsageError(`missing argument: ${usage}`);
  if (args.length > count) throw new UsageError(`unexpected argument "${args[count]}": ${usage}`);
  return [...args];
}

export function expectNone(args: readonly string[], usage: string): void {
  if (args.length) throw new UsageError(`unexpected argument "${args[0]}": ${usage}`);
}
