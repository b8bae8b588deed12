import sys

from callbot.cli import main

sys.exit(main())
