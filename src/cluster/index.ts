// The public face of cluster/: what other folders may import (scripts/checkLayers.mjs refuses deep imports).
export { ClusterTransport } from "./clusterTransport.js";
export { DkgRun } from "./dkgRun.js";
export { createNodeCertificate, nodeTlsFiles } from "./nodeCertificate.js";
