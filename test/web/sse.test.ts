import { describe, expect, it } from "vitest";
import { type SseEvent, SseParser } from "../../web/src/api/sse.js";
import { rng } from "../utils/fuzz.js";

const STREAM =
  ': slashguard alert feed\n\nevent: alert\ndata: {"id":1}\n\n: ping\n\nevent: alert\ndata: {"id":2,\ndata: "x":"y"}\n\ndata: plain\n\nevent: empty\n\nevent:alert\ndata:{"id":3}\n\n';
const WANT: SseEvent[] = [
  { event: "alert", data: '{"id":1}' },
  { event: "alert", data: '{"id":2,\n"x":"y"}' },
  { event: "message", data: "plain" },
  { event: "alert", data: '{"id":3}' },
];

describe("server-sent events parser", () => {
  it("parses events, multi-line data and comments; an event without data is not dispatched", () => {
    expect(new SseParser().push(STREAM)).toEqual(WANT);
  });

  it("gives the same events however the stream is cut into chunks, with \\n or \\r\\n line ends", () => {
    const r = rng(7);
    for (const text of [STREAM, STREAM.replace(/\n/g, "\r\n")]) {
      for (let round = 0; round < 200; round++) {
        const p = new SseParser();
        const out: SseEvent[] = [];
        let i = 0;
        while (i < text.length) {
          const n = 1 + Math.floor(r() * 12);
          out.push(...p.push(text.slice(i, i + n)));
          i += n;
        }
        expect(out).toEqual(WANT);
      }
    }
  });

  it("keeps an unfinished event until its blank line arrives", () => {
    const p = new SseParser();
    expect(p.push('event: alert\ndata: {"id":9}\n')).toEqual([]);
    expect(p.push("\n")).toEqual([{ event: "alert", data: '{"id":9}' }]);
  });
});
