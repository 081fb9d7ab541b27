"""Write an nginx.conf for N web processes from platform/nginx/shuohua.conf.template.

    python platform/render_nginx.py --prefix /var/lib/shuohua/nginx --listen 80 \
        --web 127.0.0.1:8001 --web 127.0.0.1:8002 --static-root /srv/shuohua/static \
        --tls-certificate /etc/letsencrypt/live/example.org/fullchain.pem \
        --tls-key /etc/letsencrypt/live/example.org/privkey.pem --tls-listen 443

With a certificate nginx terminates TLS on --tls-listen and --listen only redirects to https; without one
it serves plain HTTP on --listen (a closed network, or a TLS proxy in front: say HTTPS=0 or trust it).
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
    tls_certificate: Path | None = None,
    tls_key: Path | None = None,
    tls_listen: str = "443",
    acme_root: Path | None = None,
) -> Path:
    if (tls_certificate is None) != (tls_key is None):
        raise ValueError("TLS needs both the certificate and its key")
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
        "LISTEN_DIRECTIVES": f"        listen {listen};",
        "PLAIN_HTTP_REDIRECT": "",
    }
    if tls_certificate is not None:
        values["LISTEN_DIRECTIVES"] = tls_directives(tls_listen, tls_certificate, tls_key)
        values["PLAIN_HTTP_REDIRECT"] = plain_http_redirect(listen, acme_root or prefix / "acme")
    # Only ${UPPER_CASE} placeholders: nginx's own $variables stay as they are.
    text = re.sub(r"\$\{([A-Z_]+)\}", lambda match: values[match.group(1)], TEMPLATE.read_text())
    target = prefix / "nginx.conf"
    target.write_text(text)
    return target


def tls_directives(listen: str, certificate: Path, key: Path | None) -> str:
    # Mozilla's "intermediate" profile: TLS 1.2 and 1.3, forward-secret AEAD ciphers; no session
    # tickets (their key would outlive every connection). HSTS is Django's header (SECURE_HSTS_SECONDS).
    lines = [
        # "ssl http2" on the listen line: Debian's nginx 1.22 has no separate "http2 on;" yet.
        f"listen {listen} ssl http2;",
        f"ssl_certificate {certificate};",
        f"ssl_certificate_key {key};",
        "ssl_protocols TLSv1.2 TLSv1.3;",
        "ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;",
        "ssl_prefer_server_ciphers off;",
        "ssl_session_cache shared:shuohua_tls:10m;",
        "ssl_session_timeout 1d;",
        "ssl_session_tickets off;",
    ]
    return "\n".join(f"        {line}" for line in lines)


def plain_http_redirect(listen: str, acme_root: Path) -> str:
    return f"""    # Plain HTTP: the ACME challenge (certificate renewal), else a permanent redirect to https.
    server {{
        listen {listen};
        server_name _;
        location /.well-known/acme-challenge/ {{
            root {acme_root};
        }}
        location / {{
            return 301 https://$host$request_uri;
        }}
    }}
"""


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
    parser.add_argument("--tls-certificate", type=Path, help="PEM certificate chain: nginx terminates TLS")
    parser.add_argument("--tls-key", type=Path, help="the certificate's private key (PEM)")
    parser.add_argument("--tls-listen", default="443", help="where TLS is served (with a certificate)")
    parser.add_argument("--acme-root", type=Path, help="folder of /.well-known/acme-challenge/ on plain HTTP")
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
            tls_certificate=arguments.tls_certificate,
            tls_key=arguments.tls_key,
            tls_listen=arguments.tls_listen,
            acme_root=arguments.acme_root,
        )
    )


if __name__ == "__main__":
    main()
