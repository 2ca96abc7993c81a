/** Operating systems by their product names (node's process.platform values); others as sent. */
const PLATFORM_NAMES: Readonly<Record<string, string>> = {
  darwin: "macOS",
  win32: "Windows",
  linux: "Linux",
  freebsd: "FreeBSD",
  openbsd: "OpenBSD",
};

export function platformName(platform: string): string {
  return PLATFORM_NAMES[platform] ?? platform;
}
