/**
 * A small reader for the ICU MessageFormat subset our catalogs use: simple
 * arguments ({name}), formatted arguments ({n, number}) and plural/select
 * branches. It returns the argument names a message expects and throws on
 * unbalanced braces or a plural/select without an `other` branch, so a
 * translation that would crash or mis-render at runtime fails the test.
 * Apostrophe quoting is not used in our catalogs and is not supported.
 */
export function icuArguments(message: string): Set<string> {
  const names = new Set<string>();
  const end = readMessage(message, 0, names);
  if (end !== message.length) {
    throw new Error(`unexpected "}" at ${end} in: ${message}`);
  }
  return names;
}

const branchingTypes = new Set(["plural", "select", "selectordinal"]);

/** Reads text and arguments up to the first unmatched "}" (or the end); returns its index. */
function readMessage(text: string, start: number, names: Set<string>): number {
  let i = start;
  while (i < text.length && text[i] !== "}") {
    i = text[i] === "{" ? readArgument(text, i + 1, names) : i + 1;
  }
  return i;
}

/** Reads `name[, type[, style | branches]]}` starting just after "{"; returns the index after "}". */
function readArgument(text: string, start: number, names: Set<string>): number {
  const close = nextDelimiter(text, start);
  const name = text.slice(start, close).trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new Error(`invalid argument name "${name}" in: ${text}`);
  }
  names.add(name);
  if (text[close] === "}") return close + 1;

  const typeEnd = nextDelimiter(text, close + 1);
  const type = text.slice(close + 1, typeEnd).trim();
  if (text[typeEnd] === "}") return typeEnd + 1;

  if (!branchingTypes.has(type)) {
    const styleEnd = text.indexOf("}", typeEnd + 1);
    if (styleEnd === -1) throw new Error(`unclosed argument "${name}" in: ${text}`);
    return styleEnd + 1;
  }
  return readBranches(text, typeEnd + 1, name, names);
}

function readBranches(text: string, start: number, name: string, names: Set<string>): number {
  const selectors: string[] = [];
  let i = start;
  for (;;) {
    while (i < text.length && /\s/.test(text[i] ?? "")) i += 1;
    if (i >= text.length) throw new Error(`unclosed argument "${name}" in: ${text}`);
    if (text[i] === "}") break;
    const open = text.indexOf("{", i);
    if (open === -1) throw new Error(`branch without a message in "${name}": ${text}`);
    const selector = text.slice(i, open).trim();
    if (selector === "" || /\s/.test(selector)) {
      throw new Error(`invalid selector "${selector}" in "${name}": ${text}`);
    }
    selectors.push(selector);
    const branchEnd = readMessage(text, open + 1, names);
    if (branchEnd >= text.length) throw new Error(`unclosed branch "${selector}" in: ${text}`);
    i = branchEnd + 1;
  }
  if (!selectors.includes("other")) {
    throw new Error(`"${name}" has no "other" branch in: ${text}`);
  }
  return i + 1;
}

function nextDelimiter(text: string, start: number): number {
  for (let i = start; i < text.length; i += 1) {
    if (text[i] === "," || text[i] === "}") return i;
    if (text[i] === "{") break;
  }
  throw new Error(`unclosed argument in: ${text}`);
}
