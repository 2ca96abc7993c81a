import { notFound } from "next/navigation";
import { hasLocale } from "next-intl";
import { setRequestLocale } from "next-intl/server";
import { use } from "react";
import { CallToAction } from "@/components/landing/CallToAction";
import { Features } from "@/components/landing/Features";
import { Hero } from "@/components/landing/Hero";
import { Steps } from "@/components/landing/Steps";
import { routing } from "@/i18n/routing";

type LandingPageProps = { params: Promise<{ locale: string }> };

export default function LandingPage({ params }: LandingPageProps) {
  const { locale } = use(params);
  if (!hasLocale(routing.locales, locale)) notFound();
  setRequestLocale(locale);

  return (
    <>
      <Hero />
      <Features />
      <Steps />
      <CallToAction />
    </>
  );
}
