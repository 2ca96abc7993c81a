/** Runs once when the server starts: a wrong setting or key stops it with one clear message. */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { env, isBuildPhase } = await import("./env");
  if (isBuildPhase()) return;
  try {
    env();
    const { getSigningKey } = await import("./server/signing-key");
    await getSigningKey();
  } catch (error) {
    console.error(`[web] ${(error as Error).message}`);
    process.exit(1);
  }
}
