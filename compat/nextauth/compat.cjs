// Runs next-auth v4's own client functions (next-auth/react) against a
// sessionkit server and checks what they return. The server and a signed-in
// session come from the Go test that starts this script
// (examples/demo/compat_test.go):
//
//   NEXTAUTH_URL        the server's Auth.js base URL, such as http://127.0.0.1:8080/api/auth
//   SESSIONKIT_COOKIES  the signed-in browser's cookies, "name=value; name=value"
//   EXPECT_EMAIL        the signed-in user's email
//
// next-auth's client calls the global fetch; in Node that has no cookie
// jar, so this script wraps it with a small one, as a browser would keep
// cookies. It prints one line per check and exits non-zero on a failure.
"use strict";

const assert = require("node:assert/strict");

const base = process.env.NEXTAUTH_URL;
const expectEmail = process.env.EXPECT_EMAIL;
if (!base || !expectEmail) {
  console.error("NEXTAUTH_URL and EXPECT_EMAIL must be set");
  process.exit(2);
}
const origin = new URL(base).origin;

// --- a cookie jar for one origin ---
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

// next-auth logs fetch failures (CLIENT_FETCH_ERROR) instead of throwing:
// any error it logs fails the run.
const logged = [];
const consoleError = console.error;
console.error = (...args) => {
  logged.push(args.map(String).join(" "));
  consoleError(...args);
};

const { getSession, getCsrfToken, getProviders, signOut } = require("next-auth/react");

let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}: ${err.message}`);
  }
}

(async () => {
  await check("getProviders lists the provider", async () => {
    const providers = await getProviders();
    assert.ok(providers && providers.oidc, `got ${JSON.stringify(providers)}`);
    assert.equal(providers.oidc.id, "oidc");
    assert.equal(providers.oidc.signinUrl, `${base}/signin/oidc`);
    assert.equal(providers.oidc.callbackUrl, `${base}/callback/oidc`);
  });

  await check("getSession returns the signed-in session", async () => {
    const session = await getSession();
    assert.ok(session, "got no session");
    assert.equal(session.user.email, expectEmail);
    assert.equal(typeof session.user.name, "string");
    assert.ok(!Number.isNaN(Date.parse(session.expires)), `expires: ${session.expires}`);
    assert.ok(Date.parse(session.expires) > Date.now(), "expires is in the past");
    assert.equal(session.status, "active");
    assert.ok(!("refreshToken" in session) && !("accessToken" in session), "a token is exposed");
  });

  let token;
  await check("getCsrfToken returns a token, the same one twice", async () => {
    token = await getCsrfToken();
    assert.match(token, /^[0-9a-f]{64}$/);
    assert.equal(await getCsrfToken(), token);
  });

  await check("signOut({redirect: false}) signs out and answers the url", async () => {
    const data = await signOut({ redirect: false, callbackUrl: `${origin}/after` });
    assert.deepEqual(data, { url: `${origin}/after` });
  });

  await check("getSession returns null after sign-out", async () => {
    assert.equal(await getSession(), null);
  });

  await check("next-auth logged no error", async () => {
    assert.deepEqual(logged, []);
  });

  console.log(`${6 - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();
