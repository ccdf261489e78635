// Adapter around @lodestar/validator 1.5.1's SlashingProtection (the benchmark peer), on LevelDB.
import { config } from "@lodestar/config/default";
import { LevelDbController } from "@lodestar/db";
import { SlashingProtection } from "@lodestar/validator";

export async function openLodestar(dir) {
  const controller = new LevelDbController({ name: dir }, { metrics: null });
  await controller.start();
  const sp = new SlashingProtection({ config, controller });
  return {
    checkAttestation: (pubkey, source, target, root) =>
      sp.checkAndInsertAttestation(pubkey, {
        sourceEpoch: Number(source),
        targetEpoch: Number(target),
        signingRoot: root,
      }),
    checkBlock: (pubkey, slot, root) =>
      sp.checkAndInsertBlockProposal(pubkey, { slot: Number(slot), signingRoot: root }),
    importInterchange: (doc, gvr) => sp.importInterchange(doc, gvr),
    close: () => controller.stop(),
  };
}
