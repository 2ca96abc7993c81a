/** Markdown files imported as their text (next.config.ts: webpack's asset/source). */
declare module "*.md" {
  const text: string;
  export default text;
}
