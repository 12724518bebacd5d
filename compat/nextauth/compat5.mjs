// Runs Auth.js v5's client functions (next-auth@5's next-auth/react,
// installed as next-auth-v5) against a sessionkit server configured with
// NullSession, as compat.cjs does for v4. Same environment variables.
// v5 differs from v4 in that it reads null, not {}, as no session, and asks
// for JSON answers with "X-Auth-Return-Redirect: 1" instead of json=true.
import assert from "node:assert/strict";

const base = process.env.NEXTAUTH_URL;
const expectEmail = process.env.EXPECT_EMAIL;
if (!base || !expectEmail) {
  console.error("NEXTAUTH_URL and EXPECT_EMAIL must be set");
  process.exit(2);
}
const origin = new URL(base).origin;

// A cookie jar for one origin around the global fetch, as in compat.cjs.
const jar = new Map();
for (const pair of (process.env.SESSIONKIT_COOKIES || "").split(";")) {
  const i = pair.indexOf("=");
  if (i > 0) jar.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
}
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init = {}) => {
  const url = new URL(typeof input === "string" ? input : input.url);
  const headers = new Headers(init.headers || {});
  if (url.origin === origin && jar.size > 0) {
    headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
  }
  const res = await realFetch(url, { ...init, headers, redirect: "manual" });
  if (url.origin === origin) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const i = pair.indexOf("=");
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age\s*=\s*(0|-\d+)\s*$/i.test(a));
      if (expired || value === "") jar.delete(name);
      else jar.set(name, value);
    }
  }
  return res;
};

const logged = [];
const consoleError = console.error;
console.error = (...args) => {
  logged.push(args.map(String).join(" "));
  consoleError(...args);
};

const { getSession, getCsrfToken, getProviders, signOut } = await import("next-auth-v5/react");

let failed = 0;
let passed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}: ${err.message}`);
  }
}

await check("v5 getProviders lists the provider", async () => {
  const providers = await getProviders();
  assert.equal(providers?.oidc?.id, "oidc", `got ${JSON.stringify(providers)}`);
});
await check("v5 getSession returns the signed-in session", async () => {
  const session = await getSession();
  assert.equal(session?.user?.email, expectEmail, `got ${JSON.stringify(session)}`);
  assert.ok(Date.parse(session.expires) > Date.now());
});
await check("v5 getCsrfToken returns a token", async () => {
  assert.match(await getCsrfToken(), /^[0-9a-f]{64}$/);
});
await check("v5 signOut({redirect: false}) answers the url", async () => {
  const data = await signOut({ redirect: false, redirectTo: `${origin}/after` });
  assert.deepEqual(data, { url: `${origin}/after` });
});
await check("v5 getSession returns null after sign-out", async () => {
  assert.equal(await getSession(), null);
});
await check("v5 logged no error", async () => {
  assert.deepEqual(logged, []);
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
