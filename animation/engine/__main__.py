import sys

from animation.engine.cli import main

sys.exit(main())
