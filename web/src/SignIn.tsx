import { type FormEvent, useId, useState } from "react";
import { ApiError, createClient, type FetchLike } from "./api/client.js";

/**
 * Sign-in with an owner token (role operator or admin). The token is checked against the API before
 * it is kept; it is kept in session storage only (gone when the tab closes).
 */
export function SignIn({
  onSignedIn,
  notice,
  fetchImpl,
}: {
  onSignedIn: (token: string) => void;
  notice?: string | null;
  fetchImpl?: FetchLike;
}) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const inputId = useId();
  const helpId = useId();
  const errorId = useId();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const t = token.trim();
    if (t === "") return setError("Paste your owner token first.");
    setBusy(true);
    setError(null);
    try {
      await createClient(t, fetchImpl === undefined ? {} : { fetch: fetchImpl }).get("/api/v1/alerts?limit=1");
      onSignedIn(t);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? "This token is not accepted: it is wrong or was revoked."
          : err instanceof ApiError && err.status === 403
            ? "This token may not read the fleet (it is an agent token). Use an operator or admin token."
            : err instanceof ApiError && err.status === 0
              ? "The monitor cannot be reached. Check that it runs and that this address is right."
              : `Sign-in failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="signin">
      <form className="signin-card" onSubmit={(e) => void submit(e)} aria-labelledby="signin-title">
        <h1 id="signin-title">
          <span className="brand">slashguard</span> dashboard
        </h1>
        {notice != null && (
          <p className="warning" role="status">
            {notice}
          </p>
        )}
        <label htmlFor={inputId}>Owner token</label>
        <input
          id={inputId}
          type="password"
          autoComplete="current-password"
          spellCheck={false}
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-describedby={`${helpId}${error !== null ? ` ${errorId}` : ""}`}
          aria-invalid={error !== null}
          required
        />
        <p id={helpId} className="help">
          An operator or admin token: <code>slashguard monitor token create --owner NAME --role operator</code>. With{" "}
          <code>slashguard up</code> it is in <code>data/owner-token</code>. It stays in this tab only.
        </p>
        {error !== null && (
          <p id={errorId} className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
