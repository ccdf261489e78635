import { useState } from "react";
import { shortKey } from "../format.js";

/** A public key shortened for reading, with a button that copies the whole key. */
export function CopyKey({ pubkey, head, tail }: { pubkey: string; head?: number; tail?: number }) {
  const [copied, setCopied] = useState<"idle" | "done" | "failed">("idle");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(pubkey);
      setCopied("done");
    } catch {
      setCopied("failed");
    }
    setTimeout(() => setCopied("idle"), 2000);
  };
  return (
    <span className="copykey">
      <code title={pubkey}>{shortKey(pubkey, head, tail)}</code>
      <button type="button" className="btn btn-small btn-quiet" onClick={copy} aria-label={`Copy public key ${pubkey}`}>
        {copied === "done" ? "Copied" : copied === "failed" ? "Copy failed" : "Copy"}
      </button>
    </span>
  );
}
