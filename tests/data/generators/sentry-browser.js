// Generates cases for three parts of @sentry/browser 6.13.1 that run between capture and send,
// by running that version's own code:
//   npm install @sentry/browser@6.13.1 @sentry/utils@6.13.1   (in some directory D)
//   NODE_PATH=D/node_modules node sentry-browser.js > ../sentry-browser-6.13.1.json
// - normalize(value, 3): what `user`, `contexts`, `extra` and breadcrumb `data` become;
// - the Dedupe integration's event processor over sequences of events (dropped or not);
// - getEventDescription: the message of the `sentry.event` breadcrumb.
const { normalize, getEventDescription } = require("@sentry/utils");
const { Dedupe } = require("@sentry/browser/dist/integrations/dedupe");

// --- normalize ---
const deep = { a: { b: { c: { d: 1 } } } };
const normalizeInputs = [
  { id: "u1", email: "a@example.com", name: "Ann" },
  { address: { city: "Oslo", geo: { lat: 59.9, lng: 10.7 } } },
  { address: { geo: { point: { lat: 1 } } } },
  { list: [1, [2, [3, [4]]]] },
  { list: [{ a: { b: 1 } }] },
  deep,
  { a: { b: { c: [] } } },
  { a: { b: { c: {} } } },
  { a: { b: { c: null, d: true, e: "x", f: 1.5 } } },
  { domain: { _events: 1, x: 2 } },
  { domain: { _events: 0, x: 2 } },
  { domain: { _events: {} } },
  { a: { domain: { _events: "yes" } } },
  { domainEmitter: "x" },
  { a: { b: { domainEmitter: "deep" } } },
  { a: { b: { c: { domainEmitter: 1 } } } },
  { e: { nativeEvent: 1, preventDefault: 2, stopPropagation: 3 } },
  { a: { b: { e: { nativeEvent: 1, preventDefault: 2, stopPropagation: 3 } } } },
  { e: { nativeEvent: 1, preventDefault: 2 } },
  JSON.parse('{"__proto__": {"a": 1}, "b": 2}'),
  JSON.parse('{"x": {"__proto__": 5, "y": 1}}'),
  { "": { "": { "": { "": 1 } } } },
  [1, { a: { b: { c: 1 } } }],
  "a string",
  42,
  null,
  [],
  {},
];
const normalizeCases = normalizeInputs.map((input) => ({
  input: JSON.parse(JSON.stringify(input)),
  output: normalize(input, 3),
}));

// --- Dedupe ---
function runDedupe(events) {
  const integration = new Dedupe();
  let processor;
  integration.setupOnce((p) => { processor = p; }, () => ({ getIntegration: () => integration }));
  return events.map((event) => processor(JSON.parse(JSON.stringify(event))) === null);
}
const frame = (f, l, c, fn) => ({ filename: f, lineno: l, colno: c, function: fn, in_app: true });
const stack = [frame("https://a/app.js", 10, 5, "run"), frame("https://a/app.js", 20, 1, "main")];
const exc = (type, value, frames) => ({
  exception: { values: [{ type, value, ...(frames && { stacktrace: { frames } }) }] },
});
const msg = (message, extra) => ({ message, ...extra });
const sequences = [
  ["same exception twice", [exc("TypeError", "x is undefined", stack), exc("TypeError", "x is undefined", stack)]],
  ["same exception three times", [exc("E", "v", stack), exc("E", "v", stack), exc("E", "v", stack)]],
  ["A B A", [exc("E", "a", stack), exc("E", "b", stack), exc("E", "a", stack)]],
  ["other value", [exc("E", "a", stack), exc("E", "b", stack)]],
  ["other type", [exc("E", "a", stack), exc("F", "a", stack)]],
  ["other line", [exc("E", "a", stack), exc("E", "a", [stack[0], frame("https://a/app.js", 21, 1, "main")])]],
  ["other function", [exc("E", "a", stack), exc("E", "a", [stack[0], frame("https://a/app.js", 20, 1, "boot")])]],
  ["in_app differs only", [exc("E", "a", stack), exc("E", "a", stack.map((f) => ({ ...f, in_app: false })))]],
  ["one frame fewer", [exc("E", "a", stack), exc("E", "a", stack.slice(1))]],
  ["no frames both", [exc("E", "a"), exc("E", "a")]],
  ["frames then none", [exc("E", "a", stack), exc("E", "a")]],
  ["empty frames both", [exc("E", "a", []), exc("E", "a", [])]],
  ["line 1 vs 1.0", [exc("E", "a", [frame("f", 1, 2, "g")]), exc("E", "a", [frame("f", 1.0, 2, "g")])]],
  ["line 1 vs '1'", [exc("E", "a", [frame("f", 1, 2, "g")]), exc("E", "a", [frame("f", "1", 2, "g")])]],
  ["missing colno both", [exc("E", "a", [{ filename: "f", lineno: 1 }]), exc("E", "a", [{ filename: "f", lineno: 1 }])]],
  ["null colno vs missing", [exc("E", "a", [{ filename: "f", colno: null }]), exc("E", "a", [{ filename: "f" }])]],
  ["object filename", [exc("E", "a", [{ filename: {} }]), exc("E", "a", [{ filename: {} }])]],
  ["null frame", [exc("E", "a", [null]), exc("E", "a", [null])]],
  ["frames a string", [exc("E", "a", "ab"), exc("E", "a", "cd")]],
  ["frames a number", [exc("E", "a", 5), exc("E", "a", 7)]],
  ["frames an object", [exc("E", "a", { x: 1 }), exc("E", "a", { y: 2 })]],
  ["same message twice", [msg("boom"), msg("boom")]],
  ["same message, stacktraces", [msg("boom", { stacktrace: { frames: stack } }), msg("boom", { stacktrace: { frames: stack } })]],
  ["same message, one stacktrace", [msg("boom", { stacktrace: { frames: stack } }), msg("boom")]],
  ["other message", [msg("boom"), msg("bang")]],
  ["empty messages", [msg(""), msg("")]],
  ["message then exception", [msg("E: a"), exc("E", "a")]],
  ["fingerprint same", [{ ...exc("E", "a"), fingerprint: ["x", "y"] }, { ...exc("E", "a"), fingerprint: ["x", "y"] }]],
  ["fingerprint joined equal", [{ ...exc("E", "a"), fingerprint: ["xy"] }, { ...exc("E", "a"), fingerprint: ["x", "y"] }]],
  ["fingerprint differs", [{ ...exc("E", "a"), fingerprint: ["x"] }, { ...exc("E", "a"), fingerprint: ["y"] }]],
  ["fingerprint one side", [{ ...exc("E", "a"), fingerprint: ["x"] }, exc("E", "a")]],
  ["fingerprint empty lists", [{ ...exc("E", "a"), fingerprint: [] }, { ...exc("E", "a"), fingerprint: [] }]],
  ["fingerprint [] vs ['']", [{ ...exc("E", "a"), fingerprint: [] }, { ...exc("E", "a"), fingerprint: [""] }]],
  ["fingerprint [null] vs []", [{ ...exc("E", "a"), fingerprint: [null] }, { ...exc("E", "a"), fingerprint: [] }]],
  ["fingerprint [1] vs ['1']", [{ ...exc("E", "a"), fingerprint: [1] }, { ...exc("E", "a"), fingerprint: ["1"] }]],
  ["fingerprint a string", [{ ...exc("E", "a"), fingerprint: "x" }, { ...exc("E", "a"), fingerprint: "x" }]],
  ["no type, same value", [exc(undefined, "a"), exc(undefined, "a")]],
  ["values empty", [{ exception: { values: [] } }, { exception: { values: [] } }]],
  ["exception without values", [{ exception: {} }, { exception: {} }]],
  ["exception values a string", [{ exception: { values: "ab" } }, { exception: { values: "ab" } }]],
  ["exception value an object", [exc("E", { a: 1 }), exc("E", { a: 1 })]],
  ["exception with a message too", [{ ...exc("E", "a"), message: "m" }, { ...exc("E", "b"), message: "m" }]],
  ["exception ignores event.stacktrace", [{ ...exc("E", "a"), stacktrace: { frames: stack } }, exc("E", "a")]],
  ["dropped does not replace previous", [exc("E", "a", stack), exc("E", "a", stack), exc("E", "b", stack), exc("E", "a", stack)]],
];
const dedupeCases = sequences.map(([name, events]) => ({ name, events, dropped: runDedupe(events) }));

// --- getEventDescription ---
const descriptionEvents = [
  { message: "boom", event_id: "e1" },
  { message: "", exception: { values: [{ type: "E", value: "v" }] }, event_id: "e1" },
  { exception: { values: [{ type: "TypeError", value: "x is undefined" }] }, event_id: "e1" },
  { exception: { values: [{ type: "TypeError", value: "" }] }, event_id: "e1" },
  { exception: { values: [{ value: "only a value" }] }, event_id: "e1" },
  { exception: { values: [{}] }, event_id: "e1" },
  { exception: { values: [] }, event_id: "e1" },
  { exception: { values: [{ type: "A", value: "a" }, { type: "B", value: "b" }] }, event_id: "e1" },
  { event_id: "e1" },
  {},
];
const descriptionCases = descriptionEvents.map((event) => ({ event, description: getEventDescription(event) }));

process.stdout.write(JSON.stringify({
  generator: `node ${process.version}: @sentry/browser@6.13.1, @sentry/utils@6.13.1`,
  normalize: normalizeCases, dedupe: dedupeCases, description: descriptionCases,
}, null, 1) + "\n");
