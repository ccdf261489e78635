import { useCallback, useEffect, useRef, useState } from "react";
import { describeError } from "./api/client.js";

export interface Resource<T> {
  data: T | null;
  error: string | null;
  /** The error object itself (status 404 tells "not enabled" apart from "down"). */
  failure: unknown;
  loading: boolean;
  reload(): void;
}

/**
 * Loads `load()` now and again every `intervalMs` (null: once) while the page is visible; keeps the
 * last good data on a failed refresh, so a blip shows a warning, not an empty page.
 */
export function useResource<T>(
  load: (signal: AbortSignal) => Promise<T>,
  intervalMs: number | null,
  deps: unknown[],
): Resource<T> {
  const [state, setState] = useState<{ data: T | null; error: string | null; failure: unknown; loading: boolean }>({
    data: null,
    error: null,
    failure: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const reload = useCallback(() => setTick((t) => t + 1), []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: deps are the caller's, tick forces a reload
  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const run = async () => {
      if (document.visibilityState !== "hidden") {
        try {
          const data = await loadRef.current(abort.signal);
          if (!abort.signal.aborted) setState({ data, error: null, failure: null, loading: false });
        } catch (e) {
          if (!abort.signal.aborted) setState((s) => ({ ...s, error: describeError(e), failure: e, loading: false }));
        }
      }
      if (intervalMs !== null && !abort.signal.aborted) timer = setTimeout(run, intervalMs);
    };
    setState((s) => ({ ...s, loading: true }));
    void run();
    return () => {
      abort.abort();
      if (timer !== null) clearTimeout(timer);
    };
  }, [...deps, tick, intervalMs]);

  return { ...state, reload };
}

/** The current time, refreshed every `ms` (relative times such as "2 min ago" stay right). */
export function useNow(ms = 15_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
