#!/usr/bin/env python3
"""Parses a delivered message with Python's email package and prints what
the tests check as one JSON line: decoded headers, both parts, the defects
the parser found, and the raw form's line endings and lengths."""
import json
import sys
from email import message_from_bytes, policy


def main():
    raw = open(sys.argv[1], "rb").read()
    message = message_from_bytes(raw, policy=policy.default)
    defects = [repr(d) for part in message.walk() for d in part.defects]
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    to = message["to"]
    print(json.dumps({
        "subject": str(message["subject"]),
        "from": str(message["from"]),
        "to_addresses": [a.addr_spec for a in to.addresses] if to else [],
        "to_names": [a.display_name for a in to.addresses] if to else [],
        "message_id": str(message["message-id"]),
        "has_date": message["date"] is not None and message["date"].datetime is not None,
        "content_type": message.get_content_type(),
        "text": text.get_content() if text else None,
        "html": html.get_content() if html else None,
        "defects": defects,
        "bare_newlines": b"\n" in raw.replace(b"\r\n", b""),
        "longest_line": max(len(line) for line in raw.split(b"\r\n")),
    }))


if __name__ == "__main__":
    main()
