import NextAuth from "next-auth";
import { authOptions } from "@/server/auth-options";

type RouteContext = { params: Promise<{ nextauth: string[] }> };

async function handler(request: Request, context: RouteContext): Promise<Response> {
  return NextAuth(await authOptions())(request, context);
}

export { handler as GET, handler as POST };
