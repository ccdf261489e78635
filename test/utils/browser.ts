import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { it } from "vitest";
import { REPO_ROOT } from "./vectors.js";

/** Debian's chromium (`apt-get install -y chromium`; .ci/services.sh installs it). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM)
  console.warn(`Chromium is not installed at ${CHROMIUM}: browser tests are SKIPPED (apt-get install -y chromium)`);

/** Shows up as a skipped test with the reason where chromium is missing, so a skip is never silent. */
export function markChromiumSkipped(suite: string): void {
  if (!HAS_CHROMIUM) it.skip(`${suite}: SKIPPED, chromium is not installed at ${CHROMIUM}`, () => {});
}

// Without the background-networking flags chromium tries to reach Google's hosts at every start; this
// machine has no network beyond loopback.
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-quic",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Page errors and Content-Security-Policy violations seen so far. */
  problems(): Promise<string[]>;
  close(): Promise<void>;
}

/** Chromium with a fresh profile directory, one page that records errors and CSP violations. */
export async function openBrowser(viewport = { width: 1280, height: 900 }): Promise<BrowserSession> {
  const profile = mkdtempSync(join(tmpdir(), "sg-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  // Runs in the page (a string: this file is compiled without the DOM library).
  await context.addInitScript({
    content:
      "window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));",
  });
  return {
    context,
    page,
    problems: async () => [...errors, ...((await page.evaluate("window.__csp")) as string[]).map((v) => `CSP: ${v}`)],
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const ARTIFACTS = join(REPO_ROOT, "test-artifacts", "dashboard");
const DOC_IMAGES = join(REPO_ROOT, "docs", "img");

/**
 * Saves a screenshot under test-artifacts/dashboard/ (gitignored); with SLASHGUARD_DOC_SCREENSHOTS=1
 * also as docs/img/dashboard-NAME.png, the pictures the docs show.
 */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  if (process.env.SLASHGUARD_DOC_SCREENSHOTS === "1") {
    mkdirSync(DOC_IMAGES, { recursive: true });
    copyFileSync(file, join(DOC_IMAGES, `dashboard-${name}.png`));
  }
}

const AXE = readFileSync(join(REPO_ROOT, "node_modules", "axe-core", "axe.min.js"), "utf8");

/**
 * Accessibility check of the page as it is now (axe-core: WCAG 2.1 A and AA rules and best practices).
 * Returns "impact rule: elements" for every violation. Evaluated through the browser's debugging
 * protocol, which the page's Content-Security-Policy does not govern (the page itself may not run
 * inline scripts).
 */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  return (await page.evaluate(
    `axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] })
      .then((r) => r.violations.map((v) => v.impact + " " + v.id + ": " + v.nodes.map((n) => n.target.join(" ")).join(", ")))`,
  )) as string[];
}
