import type { Locator, Page } from "@playwright/test";

/*
 * Layout measurements in the page. The e2e TypeScript project has no DOM library, so the few
 * DOM members used are typed here.
 */

type Box = { scrollWidth: number; clientWidth: number };
type Styled = { wordBreak: string; lineBreak: string };
type Window = {
  getComputedStyle(element: unknown): Styled;
  document: { documentElement: Box };
};

/** How many pixels the element's content is wider than the element (0: it fits). */
export function horizontalOverflow(locator: Locator): Promise<number> {
  return locator.evaluate((element) => {
    const box = element as unknown as Box;
    return Math.max(0, box.scrollWidth - box.clientWidth);
  });
}

/** How many pixels the whole page is wider than the window (0: no sideways scrolling). */
export function pageOverflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const root = (globalThis as unknown as Window).document.documentElement;
    return Math.max(0, root.scrollWidth - root.clientWidth);
  });
}

/** The computed line-breaking rules of each matched element, and whether its text fits it. */
export function lineBreaking(
  locator: Locator,
): Promise<Array<{ wordBreak: string; lineBreak: string; overflow: number }>> {
  return locator.evaluateAll((elements) =>
    elements.map((element) => {
      const style = (globalThis as unknown as Window).getComputedStyle(element);
      const box = element as unknown as Box;
      return {
        wordBreak: style.wordBreak,
        lineBreak: style.lineBreak,
        overflow: Math.max(0, box.scrollWidth - box.clientWidth),
      };
    }),
  );
}
