export { AuthError, type AuthErrorCode, isAuthError } from "./errors.js";
export {
  defaultDevKeyFile,
  exportPublicJwks,
  exportSigningKeyPem,
  generateSigningKey,
  importSigningKey,
  importVerificationKey,
  loadOrCreateDevSigningKey,
  type SigningKey,
  TOKEN_ALG,
  type VerificationKey,
} from "./keys.js";
export {
  codeChallengeS256,
  generateCodeVerifier,
  generateOAuthState,
  isCodeChallenge,
  isCodeVerifier,
  isLoopbackRedirectUri,
  PKCE_METHOD,
  verifyCodeChallenge,
} from "./pkce.js";
export {
  DESKTOP_CODE_TTL_SECONDS,
  generateDesktopCode,
  generateRefreshToken,
  hashDesktopCode,
  hashRefreshToken,
  matchesStoredHash,
  REFRESH_TOKEN_TTL_SECONDS,
} from "./refresh.js";
export { TokenEndpointError, TokenEndpointResponse } from "./token-endpoint.js";
export {
  ACCESS_TOKEN_TYPE,
  type AccessTokenVerifier,
  CLOCK_TOLERANCE_SECONDS,
  createVerifier,
  DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
  MAX_ACCESS_TOKEN_TTL_SECONDS,
  type MintedToken,
  type MintOptions,
  mintAccessToken,
  type Principal,
  Role,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  TokenKind,
  TokenSubject,
  type VerifierKeySource,
  type VerifierOptions,
} from "./tokens.js";
