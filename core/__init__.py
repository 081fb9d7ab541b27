"""The bottom layer every app may import (it imports none of them): stored files, request parameters.

storage.py       every file operation, through Django's storage API (local disk or S3)
query_params.py  query-string parameters parsed into ids and numbers, 400 when they are not
client_address.py the client's address (REMOTE_ADDR, or X-Forwarded-For behind TRUSTED_PROXY_COUNT proxies)
counters.py      counters in the shared cache: per key, or per fixed window (the rate limits)
"""
