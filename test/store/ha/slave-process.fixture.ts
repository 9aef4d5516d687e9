// A slave broker's store and HA client in its own process, for tests that freeze (SIGSTOP) or
// stop it. Usage: bun slave-process.fixture.ts <storeRoot> <masterHaAddress> <segmentSizeBytes>
import { HAService } from "../../../src/store/ha/ha-service.ts";
import { DEFAULT_HA_CONFIG } from "../../../src/store/ha/ha-types.ts";
import { MessageStore } from "../../../src/store/message-store.ts";
import { DEFAULT_STORE_CONFIG } from "../../../src/store/store-config.ts";

const [root, masterAddress, segmentSize] = process.argv.slice(2);
if (!root || !masterAddress || !segmentSize) throw new Error("usage: slave-process.fixture.ts <storeRoot> <masterHaAddress> <segmentSizeBytes>");
const mappedFileSizeCommitLog = Number(segmentSize);
const store = new MessageStore({ ...DEFAULT_STORE_CONFIG, storePathRootDir: root, brokerRole: "SLAVE", mappedFileSizeCommitLog });
if (!(await store.load())) throw new Error("slave store failed to load");
await store.start();
const ha = new HAService(store, { ...DEFAULT_HA_CONFIG, haListenPort: 0, mappedFileSizeCommitLog, haMasterAddress: masterAddress }, "SLAVE");
ha.start();
console.log("slave ready");
process.on("SIGTERM", async () => {
  ha.shutdown();
  await store.shutdown();
  process.exit(0);
});
