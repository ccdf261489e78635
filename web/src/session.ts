const KEY = "slashguard.token";

/**
 * The owner token lives in session storage: it is gone when the tab closes, and it is sent only as a
 * bearer header to this origin (never in a URL, never in a cookie).
 */
export const session = {
  read(): string | null {
    try {
      return sessionStorage.getItem(KEY);
    } catch {
      return null;
    }
  },
  save(token: string): void {
    sessionStorage.setItem(KEY, token);
  },
  clear(): void {
    sessionStorage.removeItem(KEY);
  },
};
