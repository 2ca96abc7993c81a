import type { ReactNode } from "react";

/*
 * A small Markdown subset for pages the web app shows from docs/ (the runbooks): headings with
 * GitHub's anchors, paragraphs, bulleted and numbered lists, fenced code blocks (their info
 * string is not shown), and inline code, bold, italics and links. Rendered as React elements, never as HTML strings. Links to other files of the
 * repository are shown as their text (the web app does not serve them); "#anchor" links work.
 */

/** GitHub's heading anchor: lower-cased, punctuation dropped, spaces as hyphens. */
export function headingAnchor(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

function plain(markdown: string): string {
  return markdown.replace(/\[([^\]]+)\]\([^)]*\)/g, "$1").replace(/[`*_]/g, "");
}

function inline(text: string, key: string): ReactNode[] {
  const out: ReactNode[] = [];
  const pattern = /`([^`]+)`|\*\*([^*]+)\*\*|_([^_]+)_|\[([^\]]+)\]\(([^)]+)\)/g;
  let last = 0;
  let n = 0;
  for (const match of text.matchAll(pattern)) {
    const at = match.index ?? 0;
    if (at > last) out.push(text.slice(last, at));
    const k = `${key}-${n++}`;
    if (match[1] !== undefined) out.push(<code key={k}>{match[1]}</code>);
    else if (match[2] !== undefined) out.push(<strong key={k}>{inline(match[2], k)}</strong>);
    else if (match[3] !== undefined) out.push(<em key={k}>{inline(match[3], k)}</em>);
    else if (match[5]?.startsWith("#"))
      out.push(
        <a key={k} href={match[5]}>
          {inline(match[4] ?? "", k)}
        </a>,
      );
    else out.push(<span key={k}>{inline(match[4] ?? "", k)}</span>);
    last = at + match[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export function Markdown({ source }: { source: string }) {
  const blocks: ReactNode[] = [];
  const lines = source.split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? "";
    const key = `b${i}`;
    const heading = /^(#{1,6}) (.*)$/.exec(line);
    if (/^```/.test(line)) {
      const body: string[] = [];
      for (i += 1; i < lines.length && !/^```\s*$/.test(lines[i] ?? ""); i++) {
        body.push(lines[i] ?? "");
      }
      i += 1;
      blocks.push(
        <pre key={key}>
          <code>{body.join("\n")}</code>
        </pre>,
      );
    } else if (heading) {
      const level = heading[1]?.length ?? 1;
      const text = heading[2] ?? "";
      const Tag = `h${level}` as "h1";
      blocks.push(
        <Tag key={key} id={headingAnchor(plain(text))}>
          {inline(text, key)}
        </Tag>,
      );
      i += 1;
    } else if (/^(\d+\.|-) /.test(line)) {
      const ordered = /^\d+\./.test(line);
      const items: string[] = [];
      while (
        i < lines.length &&
        (/^(\d+\.|-) /.test(lines[i] ?? "") || /^ {2,}\S/.test(lines[i] ?? ""))
      ) {
        const current = lines[i] ?? "";
        if (/^ {2,}\S/.test(current) && items.length > 0)
          items[items.length - 1] += ` ${current.trim()}`;
        else items.push(current.replace(/^(\d+\.|-) /, ""));
        i += 1;
      }
      const List = ordered ? "ol" : "ul";
      blocks.push(
        <List key={key}>
          {items.map((item) => (
            <li key={item}>{inline(item, `${key}-${item.length}`)}</li>
          ))}
        </List>,
      );
    } else if (line.trim() === "") {
      i += 1;
    } else {
      const para: string[] = [];
      while (
        i < lines.length &&
        (lines[i] ?? "").trim() !== "" &&
        !/^(#{1,6} |\d+\. |- |```)/.test(lines[i] ?? "")
      ) {
        para.push(lines[i] ?? "");
        i += 1;
      }
      blocks.push(<p key={key}>{inline(para.join(" "), key)}</p>);
    }
  }
  return <>{blocks}</>;
}
