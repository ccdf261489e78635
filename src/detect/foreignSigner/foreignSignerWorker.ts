import { serveWorker } from "../../util/workerPool.js";
import { evaluateForeign, type ForeignBatch, type ForeignResult, foreignBuffers } from "./foreignSignerBatch.js";

serveWorker<ForeignBatch, ForeignResult>(evaluateForeign, foreignBuffers);
