"""Write an nginx.conf for N web processes from platform/nginx/shuohua.conf.template.

    python platform/render_nginx.py --prefix /var/lib/shuohua/nginx --listen 80 \
        --web 127.0.0.1:8001 --web 127.0.0.1:8002 --static-root /srv/shuohua/static
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx" / "shuohua.conf.template"


def render(
    *,
    prefix: Path,
    listen: str,
    web: list[str],
    static_root: Path,
    max_body_bytes: int,
    operators_network: str = "10.0.0.0/8",
    mime_types: str = "/etc/nginx/mime.types",
    sockets_per_address: int = 32,
) -> Path:
    prefix.mkdir(parents=True, exist_ok=True)
    for folder in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / folder).mkdir(exist_ok=True)
    values = {
        "PREFIX": str(prefix),
        "LISTEN": listen,
        "UPSTREAM_SERVERS": "\n        ".join(f"server {address};" for address in web),
        "STATIC_ROOT": str(static_root),
        "CLIENT_MAX_BODY_SIZE": str(max_body_bytes),
        "OPERATORS_NETWORK": operators_network,
        "NGINX_MIME_TYPES": mime_types,
        "SOCKETS_PER_ADDRESS": str(sockets_per_address),
    }
    # Only ${UPPER_CASE} placeholders: nginx's own $variables stay as they are.
    text = re.sub(r"\$\{([A-Z_]+)\}", lambda match: values[match.group(1)], TEMPLATE.read_text())
    target = prefix / "nginx.conf"
    target.write_text(text)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefix", type=Path, required=True)
    parser.add_argument("--listen", default="80")
    parser.add_argument("--web", action="append", required=True, help="host:port of an ASGI process")
    parser.add_argument("--static-root", type=Path, required=True)
    default_limit = int(os.environ.get("RECORDING_MAX_BYTES", 25 * 1024 * 1024)) + 1024 * 1024
    parser.add_argument("--max-body-bytes", type=int, default=default_limit)
    parser.add_argument("--operators-network", default="10.0.0.0/8")
    parser.add_argument("--sockets-per-address", type=int, default=32, help="open websockets one address may hold")
    arguments = parser.parse_args()
    print(
        render(
            prefix=arguments.prefix,
            listen=arguments.listen,
            web=arguments.web,
            static_root=arguments.static_root,
            max_body_bytes=arguments.max_body_bytes,
            operators_network=arguments.operators_network,
            sockets_per_address=arguments.sockets_per_address,
        )
    )


if __name__ == "__main__":
    main()
