export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Incremental server-sent-events parser (the WHATWG format): feed it text as it arrives, get back the
 * complete events. Used because EventSource cannot send the bearer token, so the feed is read with
 * fetch and parsed here.
 */
export class SseParser {
  private buf = "";

  push(chunk: string): SseEvent[] {
    this.buf += chunk;
    // A lone \r at the end may be the first half of \r\n: keep it for the next chunk.
    const keepCr = this.buf.endsWith("\r");
    const text = (keepCr ? this.buf.slice(0, -1) : this.buf).replace(/\r\n?/g, "\n");
    const blocks = text.split("\n\n");
    this.buf = blocks.pop()! + (keepCr ? "\r" : "");
    const out: SseEvent[] = [];
    for (const block of blocks) {
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line === "" || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
      }
      if (data.length > 0) out.push({ event, data: data.join("\n") });
    }
    return out;
  }
}
