import { codeChallengeS256, generateCodeVerifier, generateOAuthState } from "@chorus/auth";

/** A /desktop-login query the web app accepts: fresh state and PKCE challenge each call. */
export function validDesktopLoginQuery(): Record<string, string> {
  return {
    redirect_uri: "http://127.0.0.1:53123/callback",
    state: generateOAuthState(),
    code_challenge: codeChallengeS256(generateCodeVerifier()),
    code_challenge_method: "S256",
    device_name: "Studio Mac",
    platform: "darwin",
    app_version: "1.4.0",
  };
}
