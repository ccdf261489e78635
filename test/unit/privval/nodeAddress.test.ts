import { describe, expect, it } from "vitest";
import { NodeAddressErrorCode, parseNodeAddress } from "../../../src/privval/nodeAddress.js";

describe("parseNodeAddress", () => {
  it("tcp, tcp with a pinned peer id, IPv6, unix", () => {
    expect(parseNodeAddress("tcp://10.0.0.1:26659")).toMatchObject({
      kind: "tcp",
      host: "10.0.0.1",
      port: 26659,
      peerId: null,
    });
    const id = "AB".repeat(20);
    expect(parseNodeAddress(`tcp://${id}@node.example:1234`)).toMatchObject({
      peerId: id.toLowerCase(),
      host: "node.example",
    });
    expect(parseNodeAddress("tcp://[::1]:26659")).toMatchObject({ host: "::1" });
    expect(parseNodeAddress("unix:///run/pv.sock")).toMatchObject({ kind: "unix", path: "/run/pv.sock" });
  });

  for (const bad of [
    "",
    "tcp://host",
    "tcp://host:0",
    "tcp://host:70000",
    "unix://relative.sock",
    "http://h:1",
    "tcp://xyz@h:1",
  ]) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      expect(() => parseNodeAddress(bad)).toThrow(expect.objectContaining({ code: NodeAddressErrorCode.Invalid }));
    });
  }
});
