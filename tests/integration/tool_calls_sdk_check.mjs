// The official OpenAI Node SDK against sglcpp-server started with --tool-call-parser qwen3_coder,
// --reasoning-parser qwen3 and a scripted answer holding a <think> block, text and two calls:
// the SDK parses message.tool_calls, a raw stream is reassembled by hand, and the SDK's own
// streaming helper (chat.completions.stream → finalChatCompletion) assembles the same calls.
// usage: node tool_calls_sdk_check.mjs BASE_URL NODE_DIR
import { openaiClient, failureList } from "./sdk_harness.mjs";
const [base, nodeDir] = process.argv.slice(2);
const { OpenAI, client } = openaiClient(base, nodeDir);
const { fails, check } = failureList();
const tools = [
  { type: "function", function: { name: "get_weather", description: "Current weather",
    parameters: { type: "object", properties: { city: { type: "string" }, days: { type: "integer" } }, required: ["city"] } } },
  { type: "function", function: { name: "now", parameters: { type: "object", properties: {} } } },
];
const req = { model: "m", messages: [{ role: "user", content: "Weather in San Francisco?" }], tools, max_tokens: 200 };
const expectCalls = (calls, where) => {
  check(Array.isArray(calls) && calls.length === 2, `${where}: ${JSON.stringify(calls)}`);
  if (!Array.isArray(calls) || calls.length !== 2) return;
  check(calls[0].type === "function" && /^call_[0-9a-f]{24}$/.test(calls[0].id), `${where}: id/type ${JSON.stringify(calls[0])}`);
  check(calls[0].function.name === "get_weather" && calls[1].function.name === "now", `${where}: names`);
  const args = JSON.parse(calls[0].function.arguments);
  check(args.city === "San Francisco" && args.days === 3, `${where}: arguments ${calls[0].function.arguments}`);
  check(JSON.stringify(JSON.parse(calls[1].function.arguments)) === "{}", `${where}: empty arguments`);
};
try {
  const r = await client.chat.completions.create(req);
  const msg = r.choices[0].message;
  check(r.choices[0].finish_reason === "tool_calls", "finish_reason " + r.choices[0].finish_reason);
  check(msg.content === "Let me check.", "content " + JSON.stringify(msg.content));
  check(msg.reasoning_content === "The user wants the weather.", "reasoning_content " + msg.reasoning_content);
  expectCalls(msg.tool_calls, "non-stream");

  // Raw stream, reassembled the way agent frameworks do it.
  const s = await client.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
  const calls = [];
  let content = "", reasoning = "", finish = null, usage = null;
  for await (const ch of s) {
    if (ch.usage) usage = ch.usage;
    for (const c of ch.choices || []) {
      content += c.delta?.content || "";
      reasoning += c.delta?.reasoning_content || "";
      if (c.finish_reason) finish = c.finish_reason;
      for (const tc of c.delta?.tool_calls || []) {
        if (!calls[tc.index]) calls[tc.index] = { id: tc.id, type: tc.type, function: { name: tc.function.name, arguments: "" } };
        calls[tc.index].function.arguments += tc.function.arguments || "";
      }
    }
  }
  check(content === "Let me check.", "stream content " + JSON.stringify(content));
  check(reasoning === "The user wants the weather.", "stream reasoning " + JSON.stringify(reasoning));
  check(finish === "tool_calls", "stream finish_reason " + finish);
  check(usage && usage.completion_tokens === r.usage.completion_tokens, "stream usage");
  expectCalls(calls, "raw stream");
  check(calls.every((c, i) => c.function.arguments === msg.tool_calls[i].function.arguments), "stream arguments differ from non-stream");

  // The SDK's streaming helper assembles tool calls itself.
  const helper = client.chat.completions.stream ? client.chat.completions.stream(req) : client.beta.chat.completions.stream(req);
  let argDeltas = 0;
  helper.on("tool_calls.function.arguments.delta", () => argDeltas++);
  const final = await helper.finalChatCompletion();
  expectCalls(final.choices[0].message.tool_calls, "stream helper");
  check(final.choices[0].finish_reason === "tool_calls", "helper finish_reason");
  check(argDeltas > 0, "helper saw no argument deltas");

  try { await client.chat.completions.create({ ...req, tool_choice: { type: "function", function: { name: "absent" } } }); fails.push("absent tool accepted"); }
  catch (e) { check(e instanceof OpenAI.BadRequestError && e.status === 400, "absent tool: " + e); }
} catch (e) { fails.push("exception: " + (e.stack || e.message)); }
for (const f of fails) console.log(f);
console.log(`openai sdk tool calls: ${fails.length} failures`);
process.exit(fails.length ? 1 : 0);
