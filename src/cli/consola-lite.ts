// Stands in for `consola` (citty's logger) in the compiled executable only (scripts/build.ts).
// citty uses it for two things: printing (log, error) and `colors` in its usage text. The real
// module loads node:tty and the node stream stack at import, ~50 ms and ~16 MB at every start of
// every subcommand, and its `import.meta` use rules out the bytecode build.

/** Usage text stays plain: every color function returns its text as is. */
const plain = (text: string): string => text;
export const colors: Record<string, (text: string) => string> = new Proxy({}, { get: () => plain });

const consola = {
  log: (...parts: unknown[]): void => console.log(...parts),
  info: (...parts: unknown[]): void => console.log(...parts),
  warn: (...parts: unknown[]): void => console.error(...parts),
  error: (...parts: unknown[]): void => console.error(...parts),
};
export default consola;
