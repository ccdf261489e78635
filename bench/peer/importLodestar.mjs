// Imports an interchange file with @lodestar/validator 1.5.1 (it takes the parsed document, so the whole
// file is read and parsed in memory first). Usage: node importLodestar.mjs LEVELDB_DIR FILE
import { readFileSync } from "node:fs";
// biome-ignore lint/correctness/useImportExtensions: the adapter is an .mjs file (the rule only knows .js)
import { openLodestar } from "./lodestarProtection.mjs";

const [, , dir, file] = process.argv;
const l = await openLodestar(dir);
await l.importInterchange(JSON.parse(readFileSync(file, "utf8")), new Uint8Array(32));
await l.close();
