"""A Flask + Flask-Login peer of the seshat demo app, for the e2e tests.

It shares the demo's session cookie: same SECRET_KEY (the demo runs with
`-store cookie`, so its session is Flask's signed cookie `session` with
Flask-Login's keys), same cookie domain (the test puts both apps behind one
reverse proxy on loopback: /flask/* here, the rest to the demo). A user who
logs in here is logged in on the demo, and the other way round.

Users are the demo's: read from the `users` table of the demo's SQLite file
(read-only). The demo hashes passwords with argon2id or bcrypt, which this
machine's Python cannot verify (no python3-argon2, no python3-bcrypt), so
THIS TEST APP LOGS A USER IN BY EMAIL ALONE. It is a peer for an
interoperability test on loopback, never an example of a login page.

Runs under any Python with Flask and Flask-Login (Debian 12's
/usr/bin/python3: Flask 2.2.2, Flask-Login 0.6.2) with Werkzeug's server on
127.0.0.1, port 0; prints "flaskpeer listening on http://127.0.0.1:PORT"
and exits when its stdin reaches end of file.

Environment: FLASKPEER_SECRET_KEY (the demo's secret, a str), FLASKPEER_DB
(path of the demo's demo.db).

Routes:
  GET  /flask/         "#flask-whoami" (the email, or "anonymous") and the
                       login form (#flask-login, field "email")
  POST /flask/login    login_user (no remember), flash("Logged in on
                       Flask", "success"), redirect to the demo's /
  GET  /flask/whoami   JSON {"authenticated", "id", "email", "fresh"}
"""
import json
import os
import sqlite3
import sys
import threading

from flask import Flask, flash, redirect, request, session
from flask_login import LoginManager, UserMixin, current_user, login_user
from markupsafe import escape
from werkzeug.serving import make_server

app = Flask("flaskpeer")
app.config["SECRET_KEY"] = os.environ["FLASKPEER_SECRET_KEY"]
app.config["SESSION_PROTECTION"] = "basic"
DB = os.environ["FLASKPEER_DB"]

lm = LoginManager(app)
lm.login_view = "home"


class User(UserMixin):
    def __init__(self, uid, email):
        self.id = str(uid)
        self.email = email


BY_ID = "SELECT id, email FROM users WHERE id = ?"
BY_EMAIL = "SELECT id, email FROM users WHERE email = ?"


def find_user(query, value):
    # A new read-only connection per lookup: the demo writes the same file.
    con = sqlite3.connect("file:%s?mode=ro" % DB, uri=True, timeout=5)
    try:
        row = con.execute(query, (value,)).fetchone()
    finally:
        con.close()
    return User(row[0], row[1]) if row else None


@lm.user_loader
def load_user(uid):
    return find_user(BY_ID, int(uid)) if uid.isdigit() else None


@app.route("/flask/")
def home():
    who = current_user.email if current_user.is_authenticated else "anonymous"
    return (
        "<!doctype html><title>Flask peer</title>"
        '<p>Flask sees: <span id="flask-whoami">%s</span></p>'
        '<form id="flask-login" method="post" action="/flask/login">'
        '<input name="email" type="email"> <button type="submit">Log in on Flask</button></form>'
    ) % escape(who)


@app.route("/flask/login", methods=["POST"])
def login():
    user = find_user(BY_EMAIL, request.form.get("email", ""))
    if user is None:
        flash("No such user", "error")
        return redirect("/flask/")
    login_user(user)
    flash("Logged in on Flask", "success")
    return redirect("/")


@app.route("/flask/whoami")
def whoami():
    auth = current_user.is_authenticated
    return json.dumps({"authenticated": auth, "id": current_user.id if auth else None,
                       "email": current_user.email if auth else None, "fresh": session.get("_fresh")})


def main():
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    print("flaskpeer listening on http://127.0.0.1:%d" % srv.server_port, flush=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    sys.stdin.read()  # exit when the test closes our stdin (or dies)
    srv.shutdown()


if __name__ == "__main__":
    main()
