/* The leaders' dashboard's sign-in (docs/security.md#sign-in), apart from the page's charts.
 *
 * GET dashboard/config says how: "oidc" in an AWS stage (OpenID Connect authorization code
 * with PKCE S256 at the stage's Cognito hosted UI, state and nonce checked), "local" in the
 * local stage (its sign-in page mints a local token). Tokens live in sessionStorage only:
 * they end with the tab, and no other tab or later visit finds them. The ID token is the
 * bearer token, since API Gateway's Cognito authorizer reads the role and agency from it.
 * Plain JavaScript, no framework; window.MotCuaSignIn is all the page uses.
 */
(function () {
  "use strict";
  const TOKEN = "motcua-token";
  const PENDING = "motcua-signin-pending";   // {verifier, state, nonce} between leaving and coming back
  const MARGIN_SECONDS = 30;                 // a token this close to its end counts as ended
  let config = null;

  const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const random = (size) => b64url(crypto.getRandomValues(new Uint8Array(size)));

  /** RFC 7636 S256: BASE64URL(SHA-256(ASCII(code_verifier))). */
  async function challengeOf(verifier) {
    return b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  }

  /** A JWT's claims, unverified: the API (or API Gateway) verifies the signature; the page only
   * reads the nonce, audience, expiry and who is signed in. */
  function claimsOf(jwt) {
    try {
      const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0))));
    } catch (e) { return null; }
  }

  async function loadConfig() {
    if (config === null) {
      const response = await fetch("dashboard/config", {cache: "no-store"});
      if (!response.ok) { throw new Error("Không tải được cấu hình đăng nhập (HTTP " + response.status + ")."); }
      config = await response.json();
    }
    return config;
  }

  /** The kept token while it is still valid; an ended or unreadable one is dropped. */
  function current() {
    const token = sessionStorage.getItem(TOKEN);
    const claims = token ? claimsOf(token) : null;
    if (claims && typeof claims.exp === "number" && claims.exp > Date.now() / 1000 + MARGIN_SECONDS) { return token; }
    sessionStorage.removeItem(TOKEN);
    return null;
  }

  async function beginOidc(cfg) {
    const pending = {verifier: random(32), state: random(16), nonce: random(16)};
    sessionStorage.setItem(PENDING, JSON.stringify(pending));
    const query = new URLSearchParams({
      response_type: "code", client_id: cfg.client_id, redirect_uri: cfg.redirect_uri, scope: cfg.scope,
      state: pending.state, nonce: pending.nonce,
      code_challenge: await challengeOf(pending.verifier), code_challenge_method: "S256"});
    location.assign(cfg.authority + "/oauth2/authorize?" + query);
  }

  /** Back from the hosted UI with ?code&state (or ?error): check the state, trade the code and
   * the verifier for tokens, check the ID token's nonce and audience, keep the ID token. */
  async function finishOidc(cfg, query) {
    const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
    sessionStorage.removeItem(PENDING);                    // one use, whatever happens next
    history.replaceState(null, "", location.pathname);     // the code leaves the address bar
    if (query.get("error")) { throw new Error("Đăng nhập không thành công: " + query.get("error")); }
    if (!pending || query.get("state") !== pending.state) {
      throw new Error("Phiên đăng nhập không khớp (state), vui lòng đăng nhập lại.");
    }
    const response = await fetch(cfg.authority + "/oauth2/token", {
      method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"},
      body: new URLSearchParams({grant_type: "authorization_code", client_id: cfg.client_id, code: query.get("code") || "",
                                 redirect_uri: cfg.redirect_uri, code_verifier: pending.verifier})});
    const tokens = await response.json().catch(() => ({}));
    if (!response.ok || typeof tokens.id_token !== "string") {
      throw new Error("Không đổi được mã đăng nhập lấy mã thông báo, vui lòng đăng nhập lại.");
    }
    const claims = claimsOf(tokens.id_token);
    if (!claims || claims.nonce !== pending.nonce || claims.aud !== cfg.client_id) {
      throw new Error("Mã thông báo không thuộc phiên đăng nhập này (nonce), vui lòng đăng nhập lại.");
    }
    sessionStorage.setItem(TOKEN, tokens.id_token);
  }

  /** The signed-in user's bearer token; null when the browser is being sent away to sign in. */
  async function token() {
    const cfg = await loadConfig();
    const query = new URLSearchParams(location.search);
    if (cfg.mode === "oidc" && (query.has("code") || query.has("error"))) { await finishOidc(cfg, query); }
    const handed = cfg.mode === "local" && new URLSearchParams(location.hash.slice(1)).get("token");
    if (handed) {   // local stage only: `motcua token` output handed over in the fragment
      sessionStorage.setItem(TOKEN, handed);
      history.replaceState(null, "", location.pathname);
    }
    const kept = current();
    if (kept) { return kept; }
    if (cfg.mode === "oidc") { await beginOidc(cfg); return null; }
    if (cfg.mode === "local") { location.assign(cfg.sign_in_url); return null; }
    throw new Error("Môi trường này chưa cấu hình đăng nhập cho bảng điều khiển (auth_domain_prefix).");
  }

  /** Forget the tokens; the identity provider ends its session too (its logout endpoint). */
  async function signOut() {
    const cfg = await loadConfig();
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(PENDING);
    if (cfg.mode === "oidc") {
      location.assign(cfg.authority + "/logout?" + new URLSearchParams({client_id: cfg.client_id, logout_uri: cfg.redirect_uri}));
    } else if (cfg.mode === "local") {
      location.assign(cfg.sign_in_url);
    }
  }

  /** The API refused the token (401): drop it, so the next load signs in again. */
  function forget() { sessionStorage.removeItem(TOKEN); }

  /** Who is signed in, for the page's header: "leader · 000.22.30.H50" or the e-mail. */
  function who() {
    const claims = claimsOf(sessionStorage.getItem(TOKEN) || "");
    if (!claims) { return ""; }
    const role = claims.role || claims["custom:role"] || "";
    const agency = claims.agency_id || claims["custom:agency_id"] || "";
    return [claims.email || claims.sub, role, agency].filter(Boolean).join(" · ");
  }

  window.MotCuaSignIn = {token, signOut, forget, who, challengeOf};
})();
