import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigErrorCode } from "../../../src/cli/config.js";
import { setUpEvents } from "../../../src/cli/signer/eventsSetup.js";
import { nullLogger } from "../../../src/util/logger.js";
import { openTestStore, type TestStore } from "../../utils/stores.js";

describe("signer --events settings", () => {
  let ts: TestStore;
  afterEach(async () => {
    await ts?.dispose();
  });
  const setUp = async (flags: Record<string, unknown>, config: Record<string, unknown>) => {
    ts = await openTestStore("sqlite");
    return setUpEvents(flags, config, "signer.yaml", { store: ts.store, logger: nullLogger, registry: new Registry() });
  };

  it("is off without --events or events.url", async () => {
    expect(await setUp({}, {})).toBeNull();
  });

  it("takes the config form; flags win; credentials never shown", async () => {
    const e = await setUp(
      { eventsStream: "FROM_FLAG" },
      {
        events: {
          url: "nats://u:secret@127.0.0.1:4222",
          stream: "FROM_FILE",
          subject_prefix: "acme.sg",
          instance: "a",
        },
      },
    );
    expect(e).not.toBeNull();
    expect(e!.describe()).toContain("stream FROM_FLAG");
    expect(e!.describe()).toContain("acme.sg.sign.<chain>.<key>");
    expect(e!.describe()).not.toContain("secret");
  });

  it.each([
    [{ events: "127.0.0.1:4222" }, {}],
    [{ events: "nats://127.0.0.1:4222", eventsStream: "bad.name" }, {}],
    [{ events: "nats://127.0.0.1:4222", eventsSubjectPrefix: "a.>.b" }, {}],
    [{}, { events: { url: "nats://127.0.0.1:4222", unknown: 1 } }],
  ])("refuses bad settings with ERR_CONFIG_INVALID (%j %j)", async (flags, config) => {
    await expect(setUp(flags, config)).rejects.toMatchObject({ code: ConfigErrorCode.Invalid });
  });
});
