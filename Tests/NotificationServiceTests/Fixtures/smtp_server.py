#!/usr/bin/env python3
"""A real SMTP server for the notification tests (aiosmtpd).

Saves every accepted message as <maildir>/<n>.eml (the bytes as received,
after DATA's dot-unstuffing) with <n>.json beside it (envelope sender and
recipients, whether the session was TLS, the AUTH mechanism and login).
Can require STARTTLS and AUTH, serve TLS from the first byte, offer only
some AUTH mechanisms, and answer the first --reject-count DATA commands
with --reject-code. Prints "ready <port>" once listening; stops on SIGTERM.
"""
import argparse
import json
import os
import signal
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--starttls", action="store_true", help="offer and require STARTTLS")
    parser.add_argument("--implicit-tls", action="store_true", help="TLS from the first byte (smtps)")
    parser.add_argument("--auth", help="user:password that AUTH accepts; AUTH is then required")
    parser.add_argument("--exclude-mechanism", action="append", default=[], help="an AUTH mechanism not to offer")
    parser.add_argument("--reject-code", type=int, default=0)
    parser.add_argument("--reject-count", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.maildir, exist_ok=True)

    lock = threading.Lock()
    state = {"rejections_left": args.reject_count, "count": 0}

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            with lock:
                if state["rejections_left"] > 0:
                    state["rejections_left"] -= 1
                    if args.reject_code >= 500:
                        return f"{args.reject_code} 5.7.1 refused by the test server"
                    return f"{args.reject_code} 4.3.0 try again later (test server)"
                state["count"] += 1
                number = state["count"]
            base = os.path.join(args.maildir, str(number))
            with open(base + ".eml.tmp", "wb") as out:
                out.write(envelope.original_content or envelope.content)
            with open(base + ".json", "w") as out:
                json.dump({
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos,
                    "tls": session.ssl is not None or args.implicit_tls,
                    "mechanism": getattr(session, "shop_mechanism", None),
                    "login": getattr(session, "shop_login", None),
                }, out)
            os.rename(base + ".eml.tmp", base + ".eml")
            return f"250 2.0.0 Ok: queued as TEST{number:04d}"

    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword) or not args.auth:
            return AuthResult(success=False, handled=False)
        user, _, password = args.auth.partition(":")
        ok = auth_data.login.decode() == user and auth_data.password.decode() == password
        if ok:
            session.shop_mechanism = mechanism
            session.shop_login = user
        return AuthResult(success=ok, handled=False)

    context = None
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    kwargs = dict(hostname="127.0.0.1", port=args.port, ready_timeout=10)
    server_kwargs = {}
    if args.implicit_tls:
        kwargs["ssl_context"] = context
    elif args.starttls:
        kwargs["tls_context"] = context
        kwargs["require_starttls"] = True
    if args.auth:
        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        # With TLS from the first byte aiosmtpd does not count the session
        # as TLS for this check (it watches STARTTLS only).
        kwargs["auth_require_tls"] = bool(context) and not args.implicit_tls
        if args.exclude_mechanism:
            kwargs["auth_exclude_mechanism"] = args.exclude_mechanism
    controller = Controller(Handler(), server_kwargs=server_kwargs, **kwargs)
    if args.implicit_tls:
        # Controller.start() waits for a first connection, which its own
        # probe makes in plain text; with TLS from the first byte the probe
        # must speak TLS.
        def trigger():
            probe = ssl.create_default_context()
            probe.check_hostname = False
            probe.verify_mode = ssl.CERT_NONE
            with socket.create_connection(("127.0.0.1", args.port), timeout=5) as raw:
                with probe.wrap_socket(raw) as connection:
                    connection.recv(1024)
        controller._trigger_server = trigger
    controller.start()
    print(f"ready {args.port}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    sys.exit(main())
