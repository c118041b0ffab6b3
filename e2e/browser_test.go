package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/seshat-go/seshat/internal/testenv"
)

// chromiumPath is Debian's Chromium (apt-get install chromium);
// SESHAT_CHROMIUM overrides it.
func chromiumPath() string {
	if p := os.Getenv("SESHAT_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// tabTimeout bounds everything one browser context does in a test, so a
// selector that never appears fails the test instead of hanging it.
const tabTimeout = 3 * time.Minute

// waitTimeout bounds one wait for a condition in a loaded page.
const waitTimeout = 15 * time.Second

// browser is one headless Chromium per test binary; every tab of the tests
// runs in its own browser context (its own cookie jar), like a separate
// browser profile.
type browser struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	err    error
}

// get returns the browser's root context, starting Chromium on first use.
// A missing Chromium skips t (fails it with SESHAT_REQUIRE_SERVICES=1).
func (b *browser) get(t testing.TB) context.Context {
	t.Helper()
	b.once.Do(func() { b.ctx, b.cancel, b.err = launch() })
	if b.err != nil {
		testenv.Unavailable(t, "Chromium", b.err)
	}
	return b.ctx
}

func launch() (context.Context, func(), error) {
	path, err := exec.LookPath(chromiumPath())
	if err != nil {
		return nil, nil, fmt.Errorf("%w (apt-get install chromium, or set SESHAT_CHROMIUM)", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // root in a container: Chromium's sandbox cannot start
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.WindowSize(1200, 860),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	cancel := func() { cancelCtx(); cancelAlloc() }
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }() // binds the browser's life to ctx
	select {
	case err = <-started:
	case <-time.After(startTimeout):
		err = fmt.Errorf("no answer within %v", startTimeout)
	}
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("start %s: %w", path, err)
	}
	return ctx, cancel, nil
}

func (b *browser) close() {
	if b.cancel != nil {
		b.cancel()
	}
}

// tab is one browser context with one page, bound to a test and to the
// base URL of the app under test.
type tab struct {
	t      testing.TB // fails: the test or step that uses the tab now
	owner  testing.TB // closes the tab when it ends
	ctx    context.Context
	cancel func()
	base   string
	name   string
}

// newTab opens a fresh browser context (no cookies) for t; it is closed
// when t ends.
func newTab(t testing.TB, name, base string) *tab {
	t.Helper()
	return openTab(t, t, name, base)
}

// openTab is newTab for a step t of the test owner: failures go to t, the
// tab lives until owner ends.
func openTab(t, owner testing.TB, name, base string) *tab {
	t.Helper()
	root := browsers.get(t)
	ctx, cancelTab := chromedp.NewContext(root, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(ctx); err != nil { // creates the context and its page
		cancelTab()
		t.Fatalf("%s: new browser context: %v", name, err)
	}
	tctx, cancelTimeout := context.WithTimeout(ctx, tabTimeout)
	b := &tab{t: t, owner: owner, ctx: tctx, base: base, name: name, cancel: func() { cancelTimeout(); cancelTab() }}
	owner.Cleanup(b.cancel)
	return b
}

// in returns the tab for use in t (a step of the test that owns it): its
// failures go to t, it still closes when the owner ends.
func (b *tab) in(t testing.TB) *tab {
	c := *b
	c.t = t
	return &c
}

// fatalf fails the test with what the page shows, for a readable failure.
func (b *tab) fatalf(format string, args ...any) {
	b.t.Helper()
	msg := fmt.Sprintf(format, args...)
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
	defer cancel()
	url, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if len(body) > 1500 {
		body = body[:1500] + "…"
	}
	b.t.Fatalf("%s: %s\n  at %s, page text:\n%s", b.name, msg, url, indent(body))
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ")
}

// open navigates to path and fails unless the page (after redirects)
// answered 2xx.
func (b *tab) open(path string) {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.fatalf("open %s: %v", path, err)
	}
	if resp == nil || resp.Status < 200 || resp.Status > 299 {
		status := int64(0)
		if resp != nil {
			status = resp.Status
		}
		b.fatalf("GET %s: status %d, want 2xx", path, status)
	}
}

// submitJS fills and submits the form around the element sel matches (a
// field of the form, or the form itself). A field whose value names a
// submit button of the form (<button name=theme value=dark>) picks that
// button as the submitter; a checkbox is ticked by any non-empty value.
// With dropCSRF the form's csrf_token fields are removed first.
const submitJS = `(function(sel, fields, dropCSRF) {
	const el = document.querySelector(sel);
	if (!el) throw new Error("no element " + sel);
	const f = el.tagName === "FORM" ? el : el.closest("form");
	if (!f) throw new Error("no form around " + sel);
	let submitter = null;
	for (const [k, v] of Object.entries(fields)) {
		const btn = [...f.querySelectorAll("button, input[type=submit]")]
			.find(b => b.name === k && b.value === v);
		if (btn) { submitter = btn; continue; }
		const field = f.elements[k];
		if (!field) throw new Error("form has no field " + k);
		if (field.type === "checkbox") field.checked = v !== ""; else field.value = v;
	}
	if (dropCSRF) f.querySelectorAll("[name=csrf_token]").forEach(e => e.remove());
	f.requestSubmit(submitter);
})`

// submit fills and submits a form (see submitJS), waits for the page the
// server answers with (after redirects) and returns its HTTP status.
func (b *tab) submit(sel string, fields map[string]string) int64 {
	b.t.Helper()
	return b.post(sel, fields, false)
}

// submitWithoutCSRF is submit with the form's CSRF token removed.
func (b *tab) submitWithoutCSRF(sel string, fields map[string]string) int64 {
	b.t.Helper()
	return b.post(sel, fields, true)
}

func (b *tab) post(sel string, fields map[string]string, dropCSRF bool) int64 {
	b.t.Helper()
	if fields == nil {
		fields = map[string]string{}
	}
	js := fmt.Sprintf("%s(%s, %s, %t)", submitJS, jsString(sel), mustJSON(fields), dropCSRF)
	return b.navigateBy(js, "submit "+sel)
}

// click clicks the element sel matches (with the page's own click, so a
// button submits its form) and waits for the page that follows.
func (b *tab) click(sel string) int64 {
	b.t.Helper()
	js := fmt.Sprintf(`(function(sel) {
		const el = document.querySelector(sel);
		if (!el) throw new Error("no element " + sel);
		el.click();
	})(%s)`, jsString(sel))
	return b.navigateBy(js, "click "+sel)
}

func (b *tab) navigateBy(js, what string) int64 {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Evaluate[chromedp.Void](js))
	if err != nil {
		b.fatalf("%s: %v", what, err)
	}
	if resp == nil {
		return 0
	}
	return resp.Status
}

// eval evaluates a JavaScript expression in the loaded page.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// text returns the trimmed text of the first element sel matches, or
// fails when there is none.
func (b *tab) text(sel string) string {
	b.t.Helper()
	s := eval[*string](b, fmt.Sprintf(`(function(e){ return e ? e.textContent.trim() : null })(document.querySelector(%s))`, jsString(sel)))
	if s == nil {
		b.fatalf("no element %s", sel)
	}
	return *s
}

// texts returns the trimmed texts of every element sel matches.
func (b *tab) texts(sel string) []string {
	b.t.Helper()
	return eval[[]string](b, fmt.Sprintf(`[...document.querySelectorAll(%s)].map(e => e.textContent.trim())`, jsString(sel)))
}

// count returns how many elements sel matches.
func (b *tab) count(sel string) int {
	b.t.Helper()
	return eval[int](b, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(sel)))
}

// attr returns an attribute of the first element sel matches ("" when the
// element or the attribute is missing).
func (b *tab) attr(sel, name string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(function(e){ return (e && e.getAttribute(%s)) || "" })(document.querySelector(%s))`,
		jsString(name), jsString(sel)))
}

// path returns location.pathname.
func (b *tab) path() string {
	b.t.Helper()
	return eval[string](b, `location.pathname`)
}

// waitFor waits until the JavaScript expression is truthy, or fails the
// test saying what it waited for.
func (b *tab) waitFor(expr, what string) {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingTimeout(waitTimeout), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		b.fatalf("waiting for %s: %v", what, err)
	}
}

// whoami returns the text of #whoami: the signed-in email or "anonymous".
func (b *tab) whoami() string {
	b.t.Helper()
	return b.text("#whoami")
}

// wantSignedIn fails unless #whoami names email.
func (b *tab) wantSignedIn(email string) {
	b.t.Helper()
	if got := b.whoami(); !strings.Contains(got, email) {
		b.fatalf("#whoami = %q, want %s signed in", got, email)
	}
}

// wantAnonymous fails unless #whoami says anonymous.
func (b *tab) wantAnonymous() {
	b.t.Helper()
	if got := b.whoami(); !strings.Contains(strings.ToLower(got), "anonymous") {
		b.fatalf("#whoami = %q, want anonymous", got)
	}
}

// wantPath fails unless the page's path is want.
func (b *tab) wantPath(want string) {
	b.t.Helper()
	if got := b.path(); got != want {
		b.fatalf("path = %s, want %s", got, want)
	}
}

// wantFlash fails unless #flashes holds a flash of category containing
// text.
func (b *tab) wantFlash(category, text string) {
	b.t.Helper()
	got := b.texts("#flashes .flash-" + category)
	for _, s := range got {
		if strings.Contains(s, text) {
			return
		}
	}
	b.fatalf("no %s flash containing %q; %s flashes: %q (all: %q)", category, text, category, got, b.texts("#flashes .flash"))
}

// cookies returns the browser context's cookies for the base URL.
func (b *tab) cookies() []*network.Cookie {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base + "/"}})
	if err != nil {
		b.fatalf("get cookies: %v", err)
	}
	return res.Cookies
}

// restart is a browser restart: it keeps the persistent cookies of b's
// context (those with an expiry; a browser drops session cookies when it
// quits), closes b, and returns a fresh context holding only them. It fails
// when no cookie is persistent.
func (b *tab) restart(name string) *tab {
	b.t.Helper()
	var keep []*network.CookieParam
	var kept, dropped []string
	for _, c := range b.cookies() {
		if c.Session {
			dropped = append(dropped, c.Name)
			continue
		}
		kept = append(kept, c.Name)
		p := &network.CookieParam{
			Name: c.Name, Value: c.Value, Path: c.Path,
			Secure: c.Secure, HTTPOnly: c.HTTPOnly, SameSite: c.SameSite,
			Expires: cdp.TimeSinceEpoch(c.Expires),
		}
		if strings.HasPrefix(c.Domain, ".") {
			p.Domain = c.Domain
		} else {
			p.URL = b.base + "/" // host-only, as the server set it
		}
		keep = append(keep, p)
	}
	b.t.Logf("%s: browser restart keeps %q, drops session cookies %q", b.name, kept, dropped)
	if len(keep) == 0 {
		b.fatalf("no persistent cookie to survive a browser restart (session cookies: %q)", dropped)
	}
	b.cancel()
	n := openTab(b.t, b.owner, name, b.base)
	if _, err := chromedp.Call(n.ctx, network.SetCookies, network.SetCookiesParams{Cookies: keep}); err != nil {
		n.fatalf("set cookies: %v", err)
	}
	return n
}

// shot writes a full-page PNG of the current page to
// docs/screenshots/name.png when SESHAT_SCREENSHOTS=1.
func (b *tab) shot(name string) {
	b.t.Helper()
	if os.Getenv("SESHAT_SCREENSHOTS") != "1" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)) // 100 = PNG
	if err != nil {
		b.fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join(repoRoot, "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func jsString(s string) string { return mustJSON(s) }

// mustJSON encodes v for a page script; the tests only pass strings and
// string maps, which always encode.
func mustJSON(v any) string {
	j, _ := json.Marshal(v)
	return string(j)
}

// clickNoNav clicks the element sel matches when the click navigates
// nowhere (a script button).
func (b *tab) clickNoNav(sel string) {
	b.t.Helper()
	eval[chromedp.Void](b, fmt.Sprintf(`(function(sel) {
		const el = document.querySelector(sel);
		if (!el) throw new Error("no element " + sel);
		el.click();
	})(%s)`, jsString(sel)))
}

// intText returns the text of the first element sel matches as an integer.
func (b *tab) intText(sel string) int {
	b.t.Helper()
	s := b.text(sel)
	n, err := strconv.Atoi(s)
	if err != nil {
		b.fatalf("%s = %q, want an integer", sel, s)
	}
	return n
}

// openWithWebSocket opens path and waits until the page's websocket
// handshake got its 101 answer, so messages the test makes the page send
// reach the server.
func (b *tab) openWithWebSocket(path string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	handshakes := chromedp.Events(ctx, network.WebSocketHandshakeResponseReceived) // subscribed before the page loads
	b.open(path)
	for ev, err := range handshakes {
		if err != nil {
			b.fatalf("waiting for the websocket handshake of %s: %v", path, err)
		}
		if ev.Response == nil || ev.Response.Status != 101 {
			b.fatalf("websocket handshake answered %+v, want 101", ev.Response)
		}
		return
	}
	b.fatalf("no websocket handshake on %s", path)
}
