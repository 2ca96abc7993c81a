/** Runs once when the server starts: a wrong setting or key stops it with one clear message. */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { env, isBuildPhase } = await import("./env");
  if (isBuildPhase()) return;
  try {
    const settings = env();
    // Every request gets its client's address stamped before Next sees it (for the throttles).
    const { installClientAddressHook, parseTrustedProxies } = await import(
      "./server/client-address"
    );
    installClientAddressHook(parseTrustedProxies(settings.TRUSTED_PROXIES));
    const { getSigningKey } = await import("./server/signing-key");
    await getSigningKey();
  } catch (error) {
    console.error(`[web] ${(error as Error).message}`);
    process.exit(1);
  }
}
