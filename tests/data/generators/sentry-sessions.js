// Generates release-health session cases by running @sentry/browser 6.13.1 itself, in jsdom:
//   npm install @sentry/browser@6.13.1 @sentry/utils@6.13.1 jsdom@22   (in some directory D)
//   NODE_PATH=D/node_modules node sentry-sessions.js > ../sentry-sessions-6.13.1.json
// Each case is a visitor's page loads. Each page load is a fresh document and a fresh SDK
// (Sentry.init as RudderStack's integration calls it: no autoSessionTracking given, so it is
// on), then steps at given times: history navigations (pushState), setUser (what an identify
// sets), errors through window.onerror (the global handler's path), captureException (handled)
// and captureMessage. The clock is the SDK's own timestamp functions, set before each step.
// Recorded: every session the transport is handed (its JSON, as sent; random sids numbered in
// order of appearance), and the mechanism of each event's first exception.
const path = require("path");
const { JSDOM, ResourceLoader } = require("jsdom");

const DSN = "https://public@o1.ingest.sentry.io/1";
const UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36";

function freshSdk() {
  for (const key of Object.keys(require.cache)) {
    if (key.includes(`${path.sep}@sentry${path.sep}`)) delete require.cache[key];
  }
  delete global.__SENTRY__;
  const utils = require("@sentry/utils");
  let now = 0;
  utils.timestampInSeconds = () => now;
  utils.dateTimestampInSeconds = () => now;
  utils.timestampWithMs = () => now;
  return { Sentry: require("@sentry/browser"), setNow: (t) => { now = t; } };
}

function runPageLoad(pageLoad, options, record) {
  const dom = new JSDOM("<!doctype html><p>shop</p>", {
    url: pageLoad.url,
    resources: new ResourceLoader({ userAgent: options.userAgent || UA }),
  });
  for (const name of ["window", "document", "history", "location", "navigator"]) {
    Object.defineProperty(global, name, { value: dom.window[name], configurable: true, writable: true });
  }
  global.onerror = null;
  const { Sentry, setNow } = freshSdk();
  class Recorder {
    sendEvent(event) {
      const first = event.exception && event.exception.values && event.exception.values[0];
      record.events.push({ mechanism: first ? first.mechanism : null, message: event.message || null });
      return Promise.resolve({ status: "success" });
    }
    sendSession(session) {
      record.sessions.push(JSON.parse(JSON.stringify(session)));
      return Promise.resolve({ status: "success" });
    }
    close() { return Promise.resolve(true); }
  }
  setNow(pageLoad.t);
  const init = { dsn: DSN, transport: Recorder, debug: false };
  // RudderStack's sentryInit: release: customRelease || release || null, environment || null
  init.release = options.release || null;
  init.environment = options.environment || null;
  Sentry.init(init);
  for (const step of pageLoad.steps) {
    setNow(step.t);
    if (step.navigate !== undefined) {
      global.history.pushState({}, "", step.navigate);
    } else if (step.user !== undefined) {
      Sentry.setUser(step.user);
    } else if (step.onerror !== undefined) {
      const error = new Error(step.onerror.value);
      error.name = step.onerror.type;
      global.onerror(`${step.onerror.type}: ${step.onerror.value}`, pageLoad.url, 10, 5, error);
    } else if (step.handled !== undefined) {
      const error = new Error(step.handled.value);
      error.name = step.handled.type;
      Sentry.captureException(error);
    } else if (step.message !== undefined) {
      Sentry.captureMessage(step.message);
    }
  }
}

const t0 = 1732000000.25;
const at = (seconds) => t0 + seconds;
const boom = { type: "TypeError", value: "x is undefined" };
const cases = [
  ["no release: nothing is sent", { release: "" }, [{ steps: [{ onerror: boom }] }]],
  ["a page load alone", {}, [{ steps: [] }]],
  ["environment in attrs", { environment: "production" }, [{ steps: [] }]],
  ["an unhandled error crashes the session", {}, [{ steps: [{ onerror: boom }] }]],
  ["two unhandled errors: one update", {}, [{ steps: [{ onerror: boom }, { onerror: { type: "E", value: "v" } }] }]],
  ["handled, then unhandled, then unhandled", {}, [{ steps: [
    { handled: { type: "E", value: "a" } }, { onerror: boom }, { onerror: { type: "F", value: "b" } }] }]],
  ["two handled errors: one update", {}, [{ steps: [{ handled: { type: "E", value: "a" } }, { handled: { type: "E", value: "b" } }] }]],
  ["a message updates while no error", {}, [{ steps: [{ message: "first" }, { message: "second" }, { onerror: boom }, { message: "third" }] }]],
  ["the user gives did and ip", {}, [{ steps: [
    { user: { id: "u-1", email: "ann@example.org", ip_address: "203.0.113.9" } }, { onerror: boom }] }]],
  ["did from email", {}, [{ steps: [{ user: { email: "ann@example.org" } }, { onerror: boom }] }]],
  ["did from username", {}, [{ steps: [{ user: { id: "", username: "Ann", name: "Ann" } }, { onerror: boom }] }]],
  ["the first user's did stays", {}, [{ steps: [
    { user: { id: "u-1" } }, { user: { id: "u-2", ip_address: "198.51.100.1" } }, { onerror: boom }] }]],
  ["a numeric id", {}, [{ steps: [{ user: { id: 42 } }, { onerror: boom }] }]],
  ["a navigation ends the session and starts one", {}, [{ steps: [{ navigate: "/b" }] }]],
  ["a navigation to the same URL starts none", {}, [{ steps: [{ navigate: "" }] }]],
  ["a crashed session ends at a navigation", {}, [{ steps: [{ onerror: boom }, { navigate: "/b" }, { onerror: boom }] }]],
  ["the first navigation of a page starts no session", {}, [{ steps: [{ navigate: "/b" }, { navigate: "/c" }] }]],
  ["the user carries to the next session of the page", {}, [{ steps: [
    { navigate: "/b" }, { user: { id: "u-1", ip_address: "203.0.113.9" } }, { navigate: "/c" },
    { handled: { type: "E", value: "a" } }] }]],
  ["a crashed session is sent again when it ends", {}, [{ steps: [
    { onerror: boom }, { navigate: "/b" }, { user: { id: "u-9" } }, { navigate: "/c" }] }]],
  ["an ip first, an id later", {}, [{ steps: [
    { user: { ip_address: "203.0.113.9" } }, { user: { id: "u-2" } }, { handled: { type: "E", value: "a" } }] }]],
  ["a message, then a handled error", {}, [{ steps: [{ message: "m" }, { handled: { type: "E", value: "a" } }, { message: "n" }] }]],
  ["back to the first URL", {}, [{ steps: [{ navigate: "/b" }, { navigate: "/p0" }, { navigate: "/b" }] }]],
  ["navigations, errors between", {}, [{ steps: [
    { navigate: "/b" }, { handled: { type: "E", value: "a" } }, { navigate: "/c" }, { navigate: "/b" }, { onerror: boom }] }]],
  ["two page loads", { environment: "staging" }, [
    { steps: [{ user: { id: "u-1" } }, { onerror: boom }] },
    { steps: [{ handled: { type: "E", value: "a" } }] }]],
];

const out = cases.map(([name, options, pageLoads]) => {
  const record = { sessions: [], events: [] };
  const loads = pageLoads.map((load, index) => ({
    url: `https://shop.example.com/p${index}`,
    t: at(index * 3600),
    steps: load.steps.map((step, position) => ({ t: at(index * 3600 + 10 * (position + 1)), ...step })),
  }));
  const release = options.release === undefined ? "shop@1.4.2" : options.release;
  loads.forEach((load) => runPageLoad(load, { ...options, release }, record));
  const sids = new Map();
  for (const session of record.sessions) {
    if (!sids.has(session.sid)) sids.set(session.sid, `S${sids.size + 1}`);
    session.sid = sids.get(session.sid);
  }
  return { test: name, release, environment: options.environment || "", user_agent: UA, page_loads: loads, ...record };
});

process.stdout.write(JSON.stringify({
  generator: `node ${process.version}: @sentry/browser@6.13.1 in jsdom@22`,
  cases: out,
}, null, 1) + "\n");
