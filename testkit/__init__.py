"""What tests and benchmarks share (they import this, never each other); not product code.

media.py        the demo media (paintings, speech) and the bundled ffmpeg
live_server.py  Daphne in a thread of the test process (a pytest plugin), submit/approve helpers
browser.py      headless Chromium through Playwright (Debian's chromium, never a download)
cluster.py      several Daphne and worker processes behind nginx, SeaweedFS
roles.py        one user of every role and the festival they act on
api_fuzz.py     schemathesis over the API for every role
fuzz_inputs.py  malformed uploads and paintings
outages.py      a private Redis stopped and started under uploads and approvals
scratch_site.py the settings of a benchmark's own site (a throwaway database and media folder)
"""
