import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  isLoopbackRedirectUri,
  type TokenEndpointResponse,
  verifyCodeChallenge,
} from "@chorus/auth";
import type { TestBackend } from "./backend.js";

/**
 * The web side of ADR 0002, as small as the engine's tests need: /desktop-login is played
 * by `approve(url)` (the "browser"), and /api/desktop/token exchanges codes and rotates
 * refresh tokens, minting real device tokens through `mint`.
 */
export interface FakeWebOptions {
  userId: string;
  deviceId: string;
  syncUrl: string;
  mint(userId: string, deviceId: string): Promise<string>;
  expiresIn?: number;
}

export class FakeWeb {
  private readonly codes = new Map<string, { challenge: string; redirectUri: string }>();
  private readonly liveRefresh = new Set<string>();
  private readonly usedRefresh = new Set<string>();
  readonly grants: string[] = [];
  /** Every access token the token endpoint issued, oldest first. */
  readonly issued: string[] = [];
  /** Refresh tokens presented to /api/desktop/revoke. */
  readonly revoked: string[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly options: FakeWebOptions,
  ) {}

  /** A new account with a device "laptop", and the web side that signs that device in. */
  static async forNewAccount(backend: TestBackend, expiresIn = 600) {
    const account = await backend.createAccount();
    const { deviceId } = await account.device("laptop");
    const web = await FakeWeb.start({
      userId: account.userId,
      deviceId,
      syncUrl: backend.syncUrl,
      mint: (u, d) => backend.mint(u, d),
      expiresIn,
    });
    return { account, deviceId, web };
  }

  static async start(options: FakeWebOptions): Promise<FakeWeb> {
    let web: FakeWeb | undefined;
    const server = createServer((req, res) => {
      void web?.handle(req).then(({ status, body }) => {
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    web = new FakeWeb(
      server,
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      options,
    );
    return web;
  }

  /** What the browser does after the user confirms: follow the redirect with a code. */
  async approve(
    loginUrl: string,
    override: { state?: string; deny?: boolean } = {},
  ): Promise<Response> {
    const url = new URL(loginUrl);
    const redirectUri = url.searchParams.get("redirect_uri") ?? "";
    if (!isLoopbackRedirectUri(redirectUri)) throw new Error(`refused redirect_uri ${redirectUri}`);
    if (url.searchParams.get("code_challenge_method") !== "S256") throw new Error("not S256");
    const state = override.state ?? url.searchParams.get("state") ?? "";
    if (override.deny)
      return fetch(`${redirectUri}?error=access_denied&state=${encodeURIComponent(state)}`, {
        redirect: "manual",
      });
    const code = randomBytes(16).toString("base64url");
    this.codes.set(code, { challenge: url.searchParams.get("code_challenge") ?? "", redirectUri });
    return fetch(`${redirectUri}?code=${code}&state=${encodeURIComponent(state)}`, {
      redirect: "manual",
    });
  }

  /** Makes every refresh token so far unusable (a revoked device). */
  revokeAll(): void {
    for (const token of this.liveRefresh) this.usedRefresh.add(token);
    this.liveRefresh.clear();
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const path = req.url ?? "";
    if (
      req.method !== "POST" ||
      (path !== "/api/desktop/token" && path !== "/api/desktop/revoke")
    ) {
      return { status: 404, body: {} };
    }
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw) as Record<string, string>;
    if (path === "/api/desktop/revoke") {
      const token = body.token ?? "";
      this.revoked.push(token);
      this.liveRefresh.delete(token);
      return { status: 200, body: {} };
    }
    const invalid = (description: string) => ({
      status: 400,
      body: { error: "invalid_grant", error_description: description },
    });
    this.grants.push(body.grant_type ?? "");
    if (body.grant_type === "authorization_code") {
      const code = this.codes.get(body.code ?? "");
      this.codes.delete(body.code ?? "");
      if (!code) return invalid("unknown or used code");
      if (code.redirectUri !== body.redirect_uri) return invalid("redirect_uri mismatch");
      if (!verifyCodeChallenge(body.code_verifier ?? "", code.challenge))
        return invalid("wrong verifier");
      return { status: 200, body: await this.tokens() };
    }
    if (body.grant_type === "refresh_token") {
      const token = body.refresh_token ?? "";
      if (!this.liveRefresh.has(token)) return invalid("refresh token rotated or revoked");
      this.liveRefresh.delete(token);
      this.usedRefresh.add(token);
      return { status: 200, body: await this.tokens() };
    }
    return { status: 400, body: { error: "invalid_request" } };
  }

  private async tokens(): Promise<TokenEndpointResponse> {
    const refresh = randomBytes(24).toString("base64url");
    this.liveRefresh.add(refresh);
    const { userId, deviceId } = this.options;
    const accessToken = await this.options.mint(userId, deviceId);
    this.issued.push(accessToken);
    return {
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: this.options.expiresIn ?? 600,
      refresh_token: refresh,
      refresh_expires_in: 2_592_000,
      device_id: deviceId,
      user_id: userId,
      email: "ada@example.test",
      sync_url: this.options.syncUrl,
    };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
