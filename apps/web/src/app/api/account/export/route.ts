import { exportAccount } from "@/server/account-security";
import { prisma } from "@/server/db";
import { getSession } from "@/server/session";

/** The signed-in user's data as one JSON file (account, desktops, every synced op). */
export async function GET(): Promise<Response> {
  const session = await getSession();
  if (!session) return Response.json({ error: "sign in first" }, { status: 401 });
  const data = await exportAccount(prisma(), session.user.id);
  if (!data) return Response.json({ error: "no such account" }, { status: 404 });
  return new Response(JSON.stringify(data, null, 2), {
    headers: {
      "content-type": "application/json; charset=utf-8",
      "content-disposition": `attachment; filename="chorus-export-${new Date().toISOString().slice(0, 10)}.json"`,
      "cache-control": "no-store",
    },
  });
}
