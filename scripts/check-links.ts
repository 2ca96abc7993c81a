/*
 * Fails when documentation points at something a clone does not have:
 * - a relative link in a markdown file (tracked, or new and not ignored) whose file does not
 *   exist, or whose `#anchor` names no heading of the markdown file it points at;
 * - a link, or a `../`-path in any text file, that climbs out of the repository.
 * Links to other sites (`https:`, `mailto:` ...) are not fetched. One `git ls-files`, then plain
 * reads: it takes well under a second.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

const root = resolve(
  execFileSync("git", ["rev-parse", "--show-toplevel"], { encoding: "utf8" }).trim(),
);

const files = execFileSync(
  "git",
  ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
  {
    cwd: root,
    encoding: "utf8",
  },
)
  .split("\0")
  .filter((file) => file !== "" && existsSync(join(root, file)));

/** Files whose text is not ours to read for paths (lock files, SQL already applied, binaries). */
const SKIP = /(^|\/)package-lock\.json$|\.(png|jpe?g|gif|ico|woff2?|ttf|sqlite|db)$/;

const problems: string[] = [];

function insideRepository(absolute: string): boolean {
  const rel = relative(root, absolute);
  return rel === "" || !(rel === ".." || rel.startsWith(`..${sep}`));
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, -1 for repeats. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutCode(markdown).split("\n")) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading?.[1] !== undefined) {
      const slug = heading[1]
        .replace(/`/g, "")
        .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/\s/g, "-");
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const id of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(id[1] ?? "");
  }
  return anchors;
}

/** Blanks fenced code blocks and inline code spans, keeping line breaks. */
function withoutCode(markdown: string): string {
  return markdown
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, (block) => block.replace(/[^\n]/g, " "))
    .replace(/`[^`\n]*`/g, (span) => " ".repeat(span.length));
}

const anchorCache = new Map<string, Set<string>>();
function hasAnchor(file: string, anchor: string): boolean {
  let anchors = anchorCache.get(file);
  if (!anchors) {
    anchors = anchorsOf(readFileSync(file, "utf8"));
    anchorCache.set(file, anchors);
  }
  return anchors.has(decodeURIComponent(anchor).toLowerCase());
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function checkLink(file: string, text: string, index: number, target: string): void {
  const where = `${file}:${lineOf(text, index)}`;
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return; // https:, mailto: ...
  const hash = target.indexOf("#");
  const pathPart = decodeURI(hash === -1 ? target : target.slice(0, hash));
  const anchor = hash === -1 ? "" : target.slice(hash + 1);
  const absolute =
    pathPart === ""
      ? join(root, file)
      : pathPart.startsWith("/")
        ? join(root, pathPart)
        : resolve(root, dirname(file), pathPart);
  if (!insideRepository(absolute)) {
    problems.push(`${where}: link to ${target} leaves the repository`);
    return;
  }
  if (!existsSync(absolute)) {
    problems.push(`${where}: link to ${target}: no such file`);
    return;
  }
  if (anchor && absolute.endsWith(".md") && statSync(absolute).isFile()) {
    if (!hasAnchor(absolute, anchor)) problems.push(`${where}: link to ${target}: no such heading`);
  }
}

for (const file of files) {
  if (SKIP.test(file)) continue;
  const text = readFileSync(join(root, file), "utf8");
  if (file.endsWith(".md")) {
    const prose = withoutCode(text);
    // [text](target "title") and <target>; [label]: target definitions.
    for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      checkLink(file, text, m.index ?? 0, m[1] ?? "");
    }
    for (const m of prose.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) {
      checkLink(file, text, m.index ?? 0, m[1] ?? "");
    }
  }
  // Any ../ path, in any file, must stay inside the repository.
  for (const m of text.matchAll(/(?<![\w./-])((?:\.\.\/)+)[\w.@-]*/g)) {
    const target = resolve(root, dirname(file), m[0]);
    if (!insideRepository(target)) {
      problems.push(`${file}:${lineOf(text, m.index ?? 0)}: ${m[0]} points outside the repository`);
    }
  }
}

if (problems.length > 0) {
  console.error(`${problems.length} broken or outside link(s):\n${problems.join("\n")}`);
  process.exit(1);
}
console.log(
  `links: ${files.length} files checked, every relative link resolves inside the repository`,
);
