// Shared by the *_sdk_check.mjs scripts: the official OpenAI SDK from tests/node (NODE_DIR) bound to
// a server, and a list of failed checks.
import { createRequire } from "module";

export function openaiClient(base, nodeDir, apiKey = "none") {
  const require = createRequire(nodeDir + "/package.json");
  const m = require("openai");
  const OpenAI = m.OpenAI || m.default || m;
  return { OpenAI, client: new OpenAI({ baseURL: base + "/v1", apiKey, maxRetries: 0, timeout: 60000 }) };
}

export function failureList() {
  const fails = [];
  return { fails, check: (c, msg) => { if (!c) fails.push(msg); } };
}
