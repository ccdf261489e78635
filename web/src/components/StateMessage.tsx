import type { ReactNode } from "react";

/**
 * Loading, empty and error states. Each says what is going on and what to do about it; an error
 * offers a retry. Announced politely to screen readers (role status / alert).
 */
export function StateMessage(props: {
  kind: "loading" | "empty" | "error";
  title: string;
  children?: ReactNode;
  onRetry?: () => void;
}) {
  return (
    <div className={`state state-${props.kind}`} role={props.kind === "error" ? "alert" : "status"}>
      {props.kind === "loading" && <span className="spinner" aria-hidden="true" />}
      <p className="state-title">{props.title}</p>
      {props.children !== undefined && <div className="state-body">{props.children}</div>}
      {props.onRetry !== undefined && (
        <button type="button" className="btn" onClick={props.onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}
