import { icuArguments } from "./icu";

type Catalog = { readonly [key: string]: unknown };

/** Flattens nested namespaces into dotted keys ("Common.nav.signIn"); non-string leaves are reported. */
export function flatten(
  catalog: Catalog,
  problems: string[] = [],
  prefix = "",
): Map<string, string> {
  const flat = new Map<string, string>();
  for (const [key, value] of Object.entries(catalog)) {
    const path = prefix === "" ? key : `${prefix}.${key}`;
    if (typeof value === "string") {
      flat.set(path, value);
    } else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      for (const [nested, text] of flatten(value as Catalog, problems, path))
        flat.set(nested, text);
    } else {
      problems.push(`${path}: expected a string or a namespace, got ${JSON.stringify(value)}`);
    }
  }
  return flat;
}

function sorted(set: Set<string>): string {
  return [...set].sort().join(", ");
}

/**
 * Everything wrong with `catalog` measured against the source catalog: missing
 * and extra keys, empty values, ICU syntax errors and placeholders that differ.
 * An empty list means the catalog is complete.
 */
export function catalogProblems(source: Catalog, catalog: Catalog): string[] {
  const problems: string[] = [];
  const expected = flatten(source, problems);
  const actual = flatten(catalog, problems);

  for (const key of expected.keys()) {
    if (!actual.has(key)) problems.push(`${key}: missing`);
  }
  for (const [key, value] of actual) {
    const sourceValue = expected.get(key);
    if (sourceValue === undefined) {
      problems.push(`${key}: not in the source catalog`);
      continue;
    }
    if (value.trim() === "") {
      problems.push(`${key}: empty`);
      continue;
    }
    try {
      const want = sorted(icuArguments(sourceValue));
      const got = sorted(icuArguments(value));
      if (want !== got) problems.push(`${key}: placeholders {${got}} differ from {${want}}`);
    } catch (error) {
      problems.push(`${key}: ${(error as Error).message}`);
    }
  }
  return problems;
}
