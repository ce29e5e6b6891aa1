// unblock staff console: fetches server-rendered pages with the staff member's bearer token.
// No cookies: the token lives in this tab's sessionStorage and goes only in the Authorization header.
"use strict";

(function () {
  const KEY = "unblock.console.token";
  const main = document.getElementById("main");
  const who = document.getElementById("who");
  const signout = document.getElementById("signout");

  function token() { return sessionStorage.getItem(KEY); }

  function claims(jwt) {
    try {
      const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part));
    } catch (e) { return {}; }
  }

  function showIdentity() {
    const t = token();
    if (!t) { who.textContent = ""; signout.hidden = true; return; }
    const c = claims(t);
    who.textContent = "Signed in as " + (c.email || c.sub || "staff");
    signout.hidden = false;
  }

  function setMain(html, focus) {
    main.innerHTML = html;
    const h1 = main.querySelector("h1");
    document.title = (h1 ? h1.textContent + " · " : "") + "unblock staff console";
    markCurrent();
    if (focus !== false) { (h1 || main).focus(); }
  }

  function markCurrent() {
    document.querySelectorAll("nav a").forEach(function (a) {
      const here = a.getAttribute("href") === "/" ? location.pathname === "/"
        : location.pathname.indexOf(a.getAttribute("href")) === 0;
      if (here) { a.setAttribute("aria-current", "page"); } else { a.removeAttribute("aria-current"); }
    });
  }

  function loginForm(message) {
    const url = document.body.dataset.loginUrl;
    const html = '<h1 tabindex="-1">Sign in</h1>' +
      (message ? '<p class="error" role="alert"></p>' : "") +
      (url ? '<p><a class="button" id="idp">Sign in with your identity provider</a></p>' : "") +
      '<form id="token-form"><label for="token">ID token (JWT) from your identity provider</label>' +
      '<textarea id="token" rows="4" required autocomplete="off" spellcheck="false"></textarea>' +
      '<button type="submit">Sign in</button></form>';
    setMain(html);
    if (message) { main.querySelector(".error").textContent = message; }
    if (url) { main.querySelector("#idp").setAttribute("href", url); }
    main.querySelector("#token-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      sessionStorage.setItem(KEY, main.querySelector("#token").value.trim());
      showIdentity();
      navigate("/", true);
    });
  }

  async function load(path) {
    const t = token();
    if (!t) { loginForm(); return; }
    let resp;
    try {
      resp = await fetch("/pages" + path, { headers: { "Authorization": "Bearer " + t } });
    } catch (e) {
      setMain('<h1 tabindex="-1">Offline</h1><p role="alert">The console cannot be reached.</p>');
      return;
    }
    if (resp.status === 401 || resp.status === 403) {
      sessionStorage.removeItem(KEY);
      showIdentity();
      loginForm("Your sign-in has expired or was refused; sign in again.");
      return;
    }
    setMain(await resp.text());
  }

  // the page behind a console address: / is the queue
  function pageOf(url) {
    const path = (url.pathname === "/" || url.pathname === "/login") ? "/queue" : url.pathname;
    return path + url.search;
  }

  function navigate(href, replace) {
    const url = new URL(href, location.href);
    if (url.pathname === "/login") { url.pathname = "/"; }
    if (replace) { history.replaceState({}, "", url.pathname + url.search); }
    else { history.pushState({}, "", url.pathname + url.search); }
    return load(pageOf(url));
  }

  async function decide(form, button) {
    const out = document.getElementById("decision-result");
    const data = new URLSearchParams(new FormData(form));
    data.set(button.name || "decision", button.value);  // decision, verdict (shadow) or fix (revert)
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    out.className = "";
    out.textContent = "Sending your decision…";
    let resp, body;
    try {
      resp = await fetch(form.getAttribute("action"), {
        method: "POST",
        headers: { "Authorization": "Bearer " + token(), "Content-Type": "application/x-www-form-urlencoded" },
        body: data.toString(),
      });
      body = await resp.json();
    } catch (e) {
      body = { error: "The decision could not be sent; try again." };
      resp = { ok: false };
    }
    if (resp.ok) {
      await load(pageOf(location));
      const again = document.getElementById("decision-result") || main.querySelector(".summary");
      const note = document.createElement("p");
      note.className = "notice";
      note.setAttribute("role", "status");
      note.textContent = body.message;
      main.insertBefore(note, main.querySelector("h1").nextSibling);
      (again || main).scrollIntoView();
      note.tabIndex = -1;
      note.focus();
    } else {
      out.className = "error";
      out.setAttribute("role", "alert");
      out.textContent = body.error || "The decision was refused.";
      if (resp.status === 409) {
        // the case moved on: the form is stale; offer the case as it is now
        const again = document.createElement("a");
        again.href = location.pathname;
        again.textContent = "Reload the case";
        out.appendChild(document.createTextNode(" "));
        out.appendChild(again);
      } else {
        form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      }
      out.tabIndex = -1;
      out.focus();
    }
  }

  document.addEventListener("click", function (ev) {
    const a = ev.target.closest("a");
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) { return; }
    const href = a.getAttribute("href");
    if (!href || href.charAt(0) !== "/" || a.id === "idp") { return; }
    ev.preventDefault();
    navigate(href);
  });

  document.addEventListener("submit", function (ev) {
    const form = ev.target;
    if (form.id === "token-form") { return; }
    ev.preventDefault();
    if (form.classList.contains("decision")) {
      decide(form, ev.submitter || form.querySelector("button"));
      return;
    }
    const params = new URLSearchParams(new FormData(form));
    navigate(form.getAttribute("action") + "?" + params.toString());
  });

  signout.addEventListener("click", function () {
    sessionStorage.removeItem(KEY);
    showIdentity();
    history.pushState({}, "", "/login");
    loginForm();
  });

  window.addEventListener("popstate", function () { load(pageOf(location)); });

  async function start() {
    const hash = new URLSearchParams(location.hash.slice(1));
    if (hash.get("code")) {
      // `unblock console`: a one-time code for the local identity, exchanged for a session token
      history.replaceState({}, "", location.pathname);
      const resp = await fetch("/local/session", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ code: hash.get("code") }),
      });
      if (resp.ok) { sessionStorage.setItem(KEY, (await resp.json()).token); }
      else { showIdentity(); loginForm("That sign-in link was already used; sign in again."); return; }
    } else if (hash.get("id_token")) {
      // an OpenID Connect implicit-flow redirect back to /login
      sessionStorage.setItem(KEY, hash.get("id_token"));
      history.replaceState({}, "", "/");
    }
    showIdentity();
    navigate(location.pathname + location.search, true);
  }

  start();
})();
