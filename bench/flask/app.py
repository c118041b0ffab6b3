"""The benchmark routes of bench/cmd/benchserver, served by Flask.

Same session as every Go contender (user_id, a 40-hex csrf_token, theme,
cart [1, 2, 3]) in Flask's default signed-cookie session, same routes and
bodies. bench/run.sh serves it with gunicorn, 2 sync workers:

    python3 bench/flask/serve.py --workers 2 --bind 127.0.0.1:PORT app:app
"""

from flask import Flask, session

app = Flask(__name__)
# A fixed key: the benchmark compares costs, not secrets (the Go contenders
# use the same string).
app.secret_key = "bench-signing-key-bench-signing-key-0001"
app.config["SESSION_COOKIE_SAMESITE"] = "Lax"


@app.route("/login")
def login():
    session["user_id"] = "42"
    session["csrf_token"] = "3f786850e387550fdab836ed7e6dc881de23001b"
    session["theme"] = "dark"
    session["cart"] = [1, 2, 3]
    return "logged in\n", 200, {"X-Bench-Login": "1"}


@app.route("/read")
def read():
    user_id = session.get("user_id", "")
    if not user_id:
        return "no session\n", 401
    cart = ",".join(str(n) for n in session.get("cart", []))
    return "user_id=%s csrf_token=%s theme=%s cart=%s\n" % (
        user_id, session.get("csrf_token", ""), session.get("theme", ""), cart)


@app.route("/write")
def write():
    theme = session.get("theme", "")
    if not theme:
        return "no session\n", 401
    session["theme"] = "light" if theme == "dark" else "dark"
    return "ok\n"


@app.route("/untouched")
def untouched():
    return "ok\n"
