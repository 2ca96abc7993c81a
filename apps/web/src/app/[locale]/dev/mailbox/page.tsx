import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { env } from "@/env";
import { type LocaleParams, pageLocale } from "@/lib/page-params";
import { readDevMailbox } from "@/server/mail";

export const metadata: Metadata = { title: "Dev mailbox", robots: { index: false } };

/** Link-shaped text becomes a link, so a mailed one-time link can be followed from here. */
function withLinks(text: string) {
  return text.split(/(https?:\/\/\S+)/).map((part, index) =>
    /^https?:\/\//.test(part) ? (
      // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one text never move
      <a key={index} href={part}>
        {part}
      </a>
    ) : (
      part
    ),
  );
}

/**
 * Development only (404 in production, and whenever SMTP_URL sends real mail): the mails the
 * web app would have sent, newest first. A developer tool, in English.
 */
export default async function DevMailboxPage({ params }: LocaleParams) {
  await pageLocale(params);
  const settings = env();
  if (settings.isProduction || settings.SMTP_URL) notFound();
  const mails = readDevMailbox();
  return (
    <div className="container" style={{ paddingBlock: "2rem" }} lang="en" dir="ltr">
      <h1>Dev mailbox</h1>
      <p>Mail the web app sent while SMTP_URL is unset, newest first.</p>
      {mails.length === 0 ? <p data-testid="mailbox-empty">No mail yet.</p> : null}
      <ol style={{ display: "grid", gap: "1rem", padding: 0, listStyle: "none" }}>
        {mails.map((mail) => (
          <li key={mail.id} data-testid="mail" data-to={mail.to}>
            <article
              style={{ border: "1px solid var(--color-border)", borderRadius: 8, padding: "1rem" }}
            >
              <h2 style={{ fontSize: "1.0625rem" }} data-testid="mail-subject">
                {mail.subject}
              </h2>
              <p>
                To <span data-testid="mail-to">{mail.to}</span> · {mail.sentAt}
              </p>
              <pre
                style={{ whiteSpace: "pre-wrap", fontFamily: "inherit" }}
                data-testid="mail-text"
              >
                {withLinks(mail.text)}
              </pre>
            </article>
          </li>
        ))}
      </ol>
    </div>
  );
}
