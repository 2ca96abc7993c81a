import { notFound } from "next/navigation";

// Unknown paths under a locale (/de/nope) render the localised [locale]/not-found.tsx
// instead of the bare global one.
export default function CatchAllPage() {
  notFound();
}
