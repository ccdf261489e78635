import type { ApiClient } from "../api/client.js";
import type { KeyPage, KeyRow } from "../api/types.js";

const PAGE = 5000;
/** A guard against a runaway loop; far above any fleet the table is meant for. */
const MAX_ROWS = 500_000;

/** Every key row of the owner's fleet, page by page (keyset cursor). */
export async function loadAllKeys(client: ApiClient, signal?: AbortSignal): Promise<KeyRow[]> {
  const out: KeyRow[] = [];
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (cursor !== null) q.set("cursor", cursor);
    const page: KeyPage = await client.get<KeyPage>(`/api/v1/keys?${q}`, signal);
    for (const r of page.data) out.push(r);
    cursor = page.next_cursor;
  } while (cursor !== null && out.length < MAX_ROWS);
  return out;
}
