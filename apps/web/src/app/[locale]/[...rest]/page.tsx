import { notFound } from "next/navigation";
import { notFoundMetadata } from "@/lib/not-found-metadata";

export const generateMetadata = notFoundMetadata;

// Unknown paths under a locale (/de/nope) render the localised [locale]/not-found.tsx
// instead of the bare global one.
export default function CatchAllPage() {
  notFound();
}
