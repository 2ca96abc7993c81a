import { connection } from "next/server";
import { getServerSession, type Session } from "next-auth";
import { authOptions } from "./auth-options";

/** The signed-in user of this request, or null. Server components and route handlers only. */
export async function getSession(): Promise<Session | null> {
  // Per request, never at build time (when there are no settings to read).
  await connection();
  const session = await getServerSession(await authOptions());
  return session?.user.id ? session : null;
}
